using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>
/// A real HttpSysLite server and driver over the in-memory transport, on a fake clock: the connection
/// loop runs exactly as on a socket, with no socket, and time moves only when a test says so.
/// </summary>
internal sealed class InMemoryServer : IAsyncDisposable
{
    private InMemoryServer(FakeTimeProvider time, InMemoryTransportFactory transport, HttpDriver driver, HttpSysLiteServer server, int port)
    {
        Time = time;
        Transport = transport;
        Driver = driver;
        Server = server;
        Port = port;
    }

    public FakeTimeProvider Time { get; }

    public InMemoryTransportFactory Transport { get; }

    public HttpDriver Driver { get; }

    public HttpSysLiteServer Server { get; }

    public int Port { get; }

    /// <summary>Starts <paramref name="app"/> on http://+:0/ (or the prefixes <paramref name="configure"/> sets).</summary>
    public static async Task<InMemoryServer> StartAsync(RequestDelegate app, Action<HttpSysLiteOptions>? configure = null)
    {
        var time = new FakeTimeProvider();
        var transport = new InMemoryTransportFactory();
        var driver = new HttpDriver(transport, time);
        var options = new HttpSysLiteOptions();
        configure?.Invoke(options);
        if (options.UrlPrefixes.Count == 0)
        {
            options.UrlPrefixes.Add("http://+:0/");
        }
        var server = new HttpSysLiteServer(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance, driver);
        await server.StartAsync(new Application(app), CancellationToken.None);
        string address = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = int.Parse(System.Text.RegularExpressions.Regex.Match(address, @":(\d+)/").Groups[1].Value);
        return new InMemoryServer(time, transport, driver, server, port);
    }

    public InMemoryClient Connect() => Transport.Connect(Port);

    /// <summary>The driver's one open connection (waits for it to be accepted).</summary>
    public async Task<HttpConnection> SingleConnectionAsync()
    {
        await WaitUntilAsync(() => Driver.Connections.Count == 1, "a connection was not accepted");
        return Driver.Connections.Single();
    }

    /// <summary>Waits (real time, bounded) until the connection runs <paramref name="kind"/>, so a clock advance counts for it.</summary>
    public async Task WaitForTimerAsync(TimerKind kind)
    {
        var connection = await SingleConnectionAsync();
        await WaitUntilAsync(() => connection.Transport.Timeouts.RequestTimer == kind, $"the connection never armed {kind} (it runs {connection.Transport.Timeouts.RequestTimer})");
    }

    /// <summary>Moves the fake clock on, in heartbeat periods, so the heartbeat sees every deadline on its way.</summary>
    public void Advance(TimeSpan by)
    {
        var step = Heartbeat.Period;
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            Time.Advance(by - moved < step ? by - moved : step);
        }
    }

    /// <summary>
    /// Moves the clock to <paramref name="early"/> before a deadline <paramref name="remaining"/> away and
    /// checks that <paramref name="client"/> has heard nothing, then past the deadline (plus the most a
    /// heartbeat can be late), so the timer fires.
    /// </summary>
    public async Task AdvancePastDeadlineAsync(InMemoryClient client, TimeSpan remaining, string timer, TimeSpan? early = null)
    {
        var before = early ?? TimeSpan.FromSeconds(1);
        Advance(remaining - before);
        Assert.True(await client.StaysSilentAsync(TimeSpan.FromMilliseconds(150)), $"{timer} fired early");
        Advance(before + Heartbeat.Period + TimeSpan.FromMilliseconds(10));
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string because)
    {
        var deadline = DateTime.UtcNow + InMemoryClient.DefaultTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(because);
            }
            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Server.StopAsync(timeout.Token);
        Server.Dispose();
        Driver.Dispose();
    }

    /// <summary>The smallest host: a DefaultHttpContext over the server's features, and the test's delegate.</summary>
    private sealed class Application(RequestDelegate app) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => app(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}
