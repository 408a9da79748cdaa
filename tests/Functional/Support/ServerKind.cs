namespace HttpSysLite.Tests.Functional.Support;

/// <summary>Which server hosts the app under test: ours, or Kestrel as the oracle.</summary>
public enum ServerKind
{
    HttpSysLite,
    Kestrel,

    /// <summary>HttpSysLite on .NET's socket engine, its path where there is no epoll (on Linux it uses an epoll loop).</summary>
    HttpSysLiteSocketEngine,
}
