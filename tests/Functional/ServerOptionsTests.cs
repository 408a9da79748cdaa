using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HttpSysLite.Tests.Functional;

/// <summary>HttpSysLite's own surface: options from configuration, prefixes shared between servers, driver limits.</summary>
public sealed class ServerOptionsTests
{
    private static async Task<WebApplication> StartAsync(Dictionary<string, string?> settings, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseHttpSysLite();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }

    private static int PortOf(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().Replace("+", "localhost")).Port;

    [Fact]
    public async Task OptionsBindFromTheHttpSysLiteConfigurationSection()
    {
        await using var app = await StartAsync(new()
        {
            ["HttpSysLite:UrlPrefixes:0"] = "http://127.0.0.1:0/configured/",
            ["HttpSysLite:MaxRequestBodySize"] = "4",
            ["HttpSysLite:RequestQueueName"] = "from-config",
        }, app => app.MapPost("/upload", async context => await context.Request.Body.CopyToAsync(Stream.Null)));

        var options = app.Services.GetRequiredService<IOptions<HttpSysLiteOptions>>().Value;
        Assert.Equal("from-config", options.RequestQueueName);
        Assert.Equal(4, options.MaxRequestBodySize);

        int port = PortOf(app);
        await using var connection = await Support.RawConnection.ConnectAsync(new(System.Net.IPAddress.Loopback, port));
        await connection.SendAsync("POST /configured/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal(413, (await connection.ReadResponseAsync()).StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task TwoServersShareOnePortByPathAndStopIndependently()
    {
        await using var first = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = "http://+:0/one/" },
            app => app.MapGet("/", (HttpContext c) => $"one:{c.Request.PathBase}"));
        int port = PortOf(first);
        await using var second = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = $"http://+:{port}/two/" },
            app => app.MapGet("/", (HttpContext c) => $"two:{c.Request.PathBase}"));

        using var client = new HttpClient();
        Assert.Equal("one:/one", await client.GetStringAsync($"http://127.0.0.1:{port}/one/"));
        Assert.Equal("two:/two", await client.GetStringAsync($"http://127.0.0.1:{port}/two/"));
        Assert.Equal("two:/TWO", await client.GetStringAsync($"http://127.0.0.1:{port}/TWO/")); // PathBase keeps the request's casing
        Assert.Single(Transport.HttpDriver.Shared.ListenEndPoints, e => e.Port == port);

        // Stopping one releases its prefix only: the other keeps serving on the same socket.
        await second.StopAsync();
        var gone = await client.GetAsync($"http://127.0.0.1:{port}/two/");
        Assert.Equal(400, (int)gone.StatusCode);
        Assert.Equal("one:/one", await client.GetStringAsync($"http://127.0.0.1:{port}/one/"));
        await first.StopAsync();
    }

    [Fact]
    public async Task ARegisteredPrefixCannotBeTakenByAnotherServer()
    {
        await using var first = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = "http://+:0/taken/", ["HttpSysLite:RequestQueueName"] = "owner" },
            static _ => { });
        int port = PortOf(first);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(
            new() { ["HttpSysLite:UrlPrefixes:0"] = $"http://+:{port}/taken/", ["HttpSysLite:RequestQueueName"] = "intruder" }, static _ => { }));
        Assert.Contains($"http://+:{port}/taken/", ex.Message);
        Assert.Contains("owner", ex.Message);
        Assert.Contains("intruder", ex.Message);
        await first.StopAsync();
    }

    /// <summary>
    /// HttpSysLite only, a deliberate difference: an unread body over 1 MiB is not drained (that would
    /// read a client's upload just to throw it away); the connection closes after the response, and a
    /// response produced when the app finishes says Connection: close. Kestrel drains it, bounded by
    /// its data-rate limits.
    /// </summary>
    [Fact]
    public async Task ALargeUnreadBodyClosesTheConnectionInsteadOfDraining()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.MapPost("/accepted", (HttpContext context) => { context.Response.StatusCode = 202; });
            app.MapPost("/ignore", () => "ignored");
        });

        await using var atCompletion = await server.ConnectAsync();
        await atCompletion.SendAsync("POST /accepted HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\n\r\n");
        var accepted = await atCompletion.ReadResponseAsync();
        Assert.Equal(202, accepted.StatusCode);
        Assert.True(accepted.HasConnectionClose);
        Assert.True(await atCompletion.IsClosedByServerAsync());

        // A response that started while the body was unread cannot know yet; the close alone says it.
        await using var started = await server.ConnectAsync();
        await started.SendAsync("POST /ignore HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\n\r\n");
        Assert.Equal("ignored", (await started.ReadResponseAsync()).BodyText);
        Assert.True(await started.IsClosedByServerAsync());
    }

    /// <summary>A change to UrlPrefixes applies within the server's watch period; this waits for it, generously.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The change to UrlPrefixes was not applied within 10 s.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task PrefixesAddedAndRemovedAtRunTimeApplyToNewRequests()
    {
        await using var app = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = "http://+:0/a/" },
            app => app.MapGet("/", (HttpContext c) => $"base:{c.Request.PathBase}"));
        int port = PortOf(app);
        var options = app.Services.GetRequiredService<IOptions<HttpSysLiteOptions>>().Value;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        using var client = new HttpClient();
        Assert.Equal(400, (int)(await client.GetAsync($"http://127.0.0.1:{port}/b/")).StatusCode);

        // HttpSys's own collection, with both of its Add overloads.
        options.UrlPrefixes.Add(Microsoft.AspNetCore.Server.HttpSys.UrlPrefix.Create("http", "+", port, "/b"));
        await UntilAsync(() => addresses.Contains($"http://+:{port}/b/"));
        Assert.Equal("base:/b", await client.GetStringAsync($"http://127.0.0.1:{port}/b/"));
        options.UrlPrefixes.Add($"http://+:{port}/c/");
        await UntilAsync(() => addresses.Contains($"http://+:{port}/c/"));
        Assert.Equal("base:/c", await client.GetStringAsync($"http://127.0.0.1:{port}/c/"));

        Assert.True(options.UrlPrefixes.Remove($"http://+:{port}/b/"));
        await UntilAsync(() => !addresses.Contains($"http://+:{port}/b/"));
        Assert.Equal(400, (int)(await client.GetAsync($"http://127.0.0.1:{port}/b/")).StatusCode);
        Assert.Equal("base:/a", await client.GetStringAsync($"http://127.0.0.1:{port}/a/"));
        Assert.Equal("base:/c", await client.GetStringAsync($"http://127.0.0.1:{port}/c/"));

        // HttpSys's parser refuses what is not a prefix at once; what the driver refuses is logged and skipped.
        Assert.ThrowsAny<ArgumentException>(() => options.UrlPrefixes.Add("ftp://+:1/"));
        options.UrlPrefixes.Add($"http://+:{port}/a/"); // the same prefix twice: nothing changes
        options.UrlPrefixes.Add($"http://+:{port}/d/");
        await UntilAsync(() => addresses.Contains($"http://+:{port}/d/"));
        Assert.Equal("base:/a", await client.GetStringAsync($"http://127.0.0.1:{port}/a/"));
        await app.StopAsync();
    }

    [Fact]
    public async Task EachRequestOfAKeepAliveConnectionIsRoutedByTheTableThenInForce()
    {
        await using var app = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = "http://+:0/a/" },
            app => app.MapGet("/{**rest}", (HttpContext c) => $"{c.Request.PathBase}|{c.Request.Path}"));
        int port = PortOf(app);
        var options = app.Services.GetRequiredService<IOptions<HttpSysLiteOptions>>().Value;
        await using var connection = await Support.RawConnection.ConnectAsync(new(System.Net.IPAddress.Loopback, port));
        async Task<string> GetAsync()
        {
            // The same Host and target each time: the connection may route by its last decision.
            await connection.SendAsync("GET /a/b/c HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return (await connection.ReadResponseAsync()).BodyText;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Assert.Equal("/a|/b/c", await GetAsync());
        Assert.Equal("/a|/b/c", await GetAsync());
        options.UrlPrefixes.Add($"http://+:{port}/a/b/");
        await UntilAsync(() => addresses.Contains($"http://+:{port}/a/b/"));
        Assert.Equal("/a/b|/c", await GetAsync());
        options.UrlPrefixes.Remove($"http://+:{port}/a/b/");
        await UntilAsync(() => !addresses.Contains($"http://+:{port}/a/b/"));
        Assert.Equal("/a|/b/c", await GetAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task AWildcardAddedToAnIpOnlyPortRebindsWithoutDroppingConnections()
    {
        // A port below the ephemeral range: the wildcard rebind needs the port free on every address, and
        // an ephemeral one may be some client's source port on another loopback address meanwhile.
        int chosen = Support.TlsClient.FreePort();
        await using var app = await StartAsync(new() { ["HttpSysLite:UrlPrefixes:0"] = $"http://127.0.0.1:{chosen}/" },
            app => app.MapGet("/{**rest}", (HttpContext c) => $"{c.Request.PathBase}|{c.Connection.LocalIpAddress}"));
        int port = PortOf(app);
        var endPoints = () => Transport.HttpDriver.Shared.ListenEndPoints.Where(e => e.Port == port).ToArray();
        Assert.Equal(System.Net.IPAddress.Loopback, Assert.Single(endPoints()).Address);

        // A keep-alive connection made before the rebind.
        await using var before = await Support.RawConnection.ConnectAsync(new(System.Net.IPAddress.Loopback, port));
        await before.SendAsync("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal("|127.0.0.1", (await before.ReadResponseAsync()).BodyText);

        var options = app.Services.GetRequiredService<IOptions<HttpSysLiteOptions>>().Value;
        options.UrlPrefixes.Add($"http://+:{port}/wide/");
        await UntilAsync(() => endPoints() is [{ Address: var address }] && address.Equals(System.Net.IPAddress.IPv6Any));

        // The old connection still works, and the new socket serves both families.
        await before.SendAsync("GET /y HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal("|127.0.0.1", (await before.ReadResponseAsync()).BodyText);
        using var client = new HttpClient();
        Assert.Equal("/wide|::1", await client.GetStringAsync($"http://[::1]:{port}/wide/"));
        Assert.Equal("|127.0.0.1", await client.GetStringAsync($"http://127.0.0.1:{port}/z"));
        await app.StopAsync();
    }
}
