namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// One `httpsyslite serve` for every <see cref="ServerKind.HttpSysLiteDriver"/> server of the test run,
/// as one driver serves many apps in production: each test's server opens a queue of its own on a port
/// of its own. Started on first use, stopped (SIGTERM, by its PID) when the test process exits.
/// </summary>
public static class SharedDriver
{
    private static readonly Lazy<Task<DriverProcess>> s_driver = new(StartAsync);

    /// <summary>The shared driver's socket, starting the driver if this is the first use.</summary>
    public static async Task<string> GetSocketAsync() => (await s_driver.Value).Socket;

    private static async Task<DriverProcess> StartAsync()
    {
        var driver = await DriverProcess.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => driver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return driver;
    }
}
