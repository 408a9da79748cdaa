namespace HttpSysLite.Tests.Functional.Support;

/// <summary>Which server hosts the app under test: ours, or Kestrel as the oracle.</summary>
public enum ServerKind
{
    HttpSysLite,
    Kestrel,

    /// <summary>HttpSysLite on .NET's socket engine, its path where there is no epoll (on Linux it uses an epoll loop).</summary>
    HttpSysLiteSocketEngine,

    /// <summary>
    /// HttpSysLite with its driver in another process: the app runs in the test process, attached over a
    /// channel to one `httpsyslite serve` shared by the test run (<see cref="SharedDriver"/>).
    /// </summary>
    HttpSysLiteDriver,
}
