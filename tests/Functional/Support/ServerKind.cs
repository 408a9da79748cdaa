namespace HttpSysLite.Tests.Functional.Support;

/// <summary>Which server hosts the app under test: ours, or Kestrel as the oracle.</summary>
public enum ServerKind
{
    HttpSysLite,
    Kestrel,
}
