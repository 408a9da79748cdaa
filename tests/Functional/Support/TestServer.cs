using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// A real server on a loopback ephemeral port, hosting either the sample's endpoints or a test's own,
/// on HttpSysLite or on Kestrel. Disposing stops it.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, ServerKind kind, int port)
    {
        App = app;
        Kind = kind;
        Port = port;
    }

    public WebApplication App { get; }

    public ServerKind Kind { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public IServer Server => App.Services.GetRequiredService<IServer>();

    /// <summary>Starts the sample app (docs/design.md section 7) on <paramref name="kind"/>.</summary>
    public static Task<TestServer> StartSampleAsync(ServerKind kind, string? url = null) =>
        StartAsync(kind, url, app => MinimalApi.SampleApp.MapEndpoints(app, kind == ServerKind.Kestrel), sample: true);

    /// <summary>Starts an app with the endpoints <paramref name="map"/> adds.</summary>
    public static Task<TestServer> StartAsync(ServerKind kind, Action<WebApplication> map, Action<HttpSysLiteOptions>? options = null, string? url = null,
        Action<IServiceCollection>? services = null) =>
        StartAsync(kind, url, map, sample: false, options, services);

    private static async Task<TestServer> StartAsync(ServerKind kind, string? url, Action<WebApplication> map, bool sample,
        Action<HttpSysLiteOptions>? options = null, Action<IServiceCollection>? services = null)
    {
        // HttpSysLite gets a strong-wildcard prefix (the dual-mode socket); Kestrel binds loopback.
        url ??= kind != ServerKind.Kestrel ? "http://+:0/" : "http://127.0.0.1:0";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url);
        if (kind == ServerKind.Kestrel)
        {
            builder.WebHost.UseKestrel();
            if (sample)
            {
                builder.Services.AddOutputCache();
            }
        }
        else
        {
            if (kind == ServerKind.HttpSysLiteSocketEngine)
            {
                // The portable transport on Linux too: a driver of the server's own on .NET's socket engine.
                builder.Services.AddSingleton(new Transport.HttpDriver(Transport.Sockets.SocketEngineTransportFactory.Instance));
                builder.Services.AddSingleton<OwnDriver>();
            }
            string? driverSocket = kind == ServerKind.HttpSysLiteDriver ? await SharedDriver.GetSocketAsync() : null;
            builder.WebHost.UseHttpSysLite(o =>
            {
                options?.Invoke(o);
                if (driverSocket is not null)
                {
                    o.DriverSocket = driverSocket;
                }
            });
        }
        builder.Services.AddRouting();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        if (sample && kind == ServerKind.Kestrel)
        {
            app.UseOutputCache();
        }
        app.UseWebSockets();
        map(app);
        await app.StartAsync();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        // An attached server has no addresses of its own (its queue's creator registered them): port 0.
        string? address = addresses.FirstOrDefault();
        int port = address is null ? 0 : new Uri(address.Replace("://+", "://localhost").Replace("://*", "://localhost")).Port;
        return new TestServer(app, kind, port);
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public Task<RawConnection> ConnectAsync() => RawConnection.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(timeout.Token);
        var own = App.Services.GetService<OwnDriver>();
        await App.DisposeAsync();
        own?.Driver.Dispose(); // a driver the test made for this server: its heartbeat stops with it
    }

    /// <summary>Marks the registered driver as this server's alone (not a FakeClock's, which the test owns).</summary>
    private sealed class OwnDriver(Transport.HttpDriver driver)
    {
        public Transport.HttpDriver Driver { get; } = driver;
    }
}
