using System.Text;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.HttpSys;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HttpSysLite.Tests.Functional;

/// <summary>HttpSys's own options and request features, with HttpSys's meanings (docs/design.md section 3).</summary>
public abstract class HttpSysOptionsTests
{
    protected abstract ServerKind Kind { get; }

    private static readonly byte[] s_nonAsciiRequest = [.. Encoding.ASCII.GetBytes("GET /header HTTP/1.1\r\nHost: localhost\r\nX-Name: "),
        .. Encoding.UTF8.GetBytes("Zoë ☃"), .. Encoding.ASCII.GetBytes("\r\n\r\n")];

    private static void MapHeaderEcho(WebApplication app) => app.MapGet("/header", (HttpContext c) =>
        // The code points, so the response's own encoding cannot blur what the server decoded.
        string.Join(' ', c.Request.Headers["X-Name"].ToString().Select(ch => ((int)ch).ToString("x"))));

    [Fact]
    public async Task ANonAsciiHeaderValueReachesTheAppAsUtf8ByDefault()
    {
        await using var server = await TestServer.StartAsync(Kind, MapHeaderEcho);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync(s_nonAsciiRequest);
        Assert.Equal("5a 6f eb 20 2603", (await connection.ReadResponseAsync()).BodyText);
    }
}

public sealed class HttpSysLiteHttpSysOptionsTests : HttpSysOptionsTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    [Fact]
    public async Task UseLatin1RequestHeadersDecodesEachByteAsOneCharacter()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/header", (HttpContext c) =>
            string.Join(' ', c.Request.Headers["X-Name"].ToString().Select(ch => ((int)ch).ToString("x")))),
            o => o.UseLatin1RequestHeaders = true);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync(Request(0xC3, 0xAB));
        Assert.Equal("5a 6f c3 ab", (await connection.ReadResponseAsync()).BodyText);
        // The same bytes by default: UTF-8, so one character; invalid UTF-8 becomes U+FFFD, as in HttpSys.
        await using var utf8 = await TestServer.StartAsync(Kind, app => app.MapGet("/header", (HttpContext c) =>
            string.Join(' ', c.Request.Headers["X-Name"].ToString().Select(ch => ((int)ch).ToString("x")))));
        await using var second = await utf8.ConnectAsync();
        await second.SendAsync(Request(0xC3, 0xAB, 0xFF));
        Assert.Equal("5a 6f eb fffd", (await second.ReadResponseAsync()).BodyText);
    }

    private static byte[] Request(params byte[] valueBytes) =>
        [.. Encoding.ASCII.GetBytes("GET /header HTTP/1.1\r\nHost: localhost\r\nX-Name: Zo"), .. valueBytes, .. "\r\n\r\n"u8];

    [Fact]
    public async Task TheTimingFeatureCarriesTheDriversTimestampsInOrder()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/timing", (HttpContext c) =>
        {
            var timing = c.Features.Get<IHttpSysRequestTimingFeature>()!;
            var steps = new[]
            {
                HttpSysRequestTimingType.ConnectionStart, HttpSysRequestTimingType.DataStart,
                HttpSysRequestTimingType.RequestHeaderParseStart, HttpSysRequestTimingType.RequestHeaderParseEnd,
                HttpSysRequestTimingType.RequestRoutingStart, HttpSysRequestTimingType.RequestRoutingEnd,
                HttpSysRequestTimingType.RequestQueuedForIO, HttpSysRequestTimingType.RequestDeliveredForIO,
            };
            var values = new List<long>();
            foreach (var step in steps)
            {
                if (!timing.TryGetTimestamp(step, out long value))
                {
                    return $"missing {step}";
                }
                values.Add(value);
            }
            bool ordered = values.Zip(values.Skip(1)).All(p => p.First <= p.Second);
            bool noTls = !timing.TryGetTimestamp(HttpSysRequestTimingType.TlsHandshakeLeg1Start, out _);
            bool table = timing.Timestamps.Length == Enum.GetValues<HttpSysRequestTimingType>().Length
                && timing.Timestamps[(int)HttpSysRequestTimingType.RequestRoutingEnd] == values[5];
            bool elapsed = timing.TryGetElapsedTime(HttpSysRequestTimingType.DataStart, HttpSysRequestTimingType.RequestDeliveredForIO, out var span)
                && span >= TimeSpan.Zero && span < TimeSpan.FromSeconds(30);
            bool inThePast = values[^1] <= System.Diagnostics.Stopwatch.GetTimestamp();
            bool empty = c.Features.Get<IHttpSysRequestInfoFeature>()!.RequestInfo.Count == 0;
            return $"{ordered} {noTls} {table} {elapsed} {inThePast} {empty} {values[0]}";
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /timing HTTP/1.1\r\nHost: localhost\r\n\r\n");
        string first = (await connection.ReadResponseAsync()).BodyText;
        Assert.StartsWith("True True True True True True ", first);
        await Task.Delay(20);
        await connection.SendAsync("GET /timing HTTP/1.1\r\nHost: localhost\r\n\r\n");
        string second = (await connection.ReadResponseAsync()).BodyText;
        // ConnectionStart is the connection's: the same for each of its requests.
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task UnsafePreferInlineSchedulingRunsTheAppOnTheLoopThread()
    {
        static void Map(WebApplication app) => app.MapPost("/where", async (HttpContext c) =>
        {
            bool before = Transport.Sockets.EpollLoop.OnLoopThread;
            using var reader = new StreamReader(c.Request.Body);
            string body = await reader.ReadToEndAsync();
            return $"{before} {body}";
        });
        await using var inline = await TestServer.StartAsync(Kind, Map, o => o.UnsafePreferInlineScheduling = true);
        await using var pooled = await TestServer.StartAsync(Kind, Map);
        foreach (var (server, expected) in new[] { (inline, "True"), (pooled, "False") })
        {
            await using var connection = await server.ConnectAsync();
            await connection.SendAsync("POST /where HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\n");
            await Task.Delay(20); // the body arrives after the head: the app waits for it
            await connection.SendAsync("body");
            Assert.Equal($"{expected} body", (await connection.ReadResponseAsync()).BodyText);
        }
    }

    [Theory]
    [InlineData("schemes", "Negotiate handler")]
    [InlineData("anonymous", "AllowAnonymous")]
    public async Task HttpSysOptionsThatNeedWhatIsNotHereFailAtStartSayingWhy(string option, string named)
    {
        // RequestQueueSecurityDescriptor is checked too, but no descriptor can be made off Windows: the
        // ACL types throw PlatformNotSupportedException.
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(Kind, static _ => { }, o =>
        {
            switch (option)
            {
                case "schemes": o.Authentication.Schemes = AuthenticationSchemes.Negotiate | AuthenticationSchemes.NTLM; break;
                case "anonymous": o.Authentication.AllowAnonymous = false; break;
            }
        }));
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public async Task ZeroTimeoutsMeanTheSystemDefaultsAndMaxAcceptsIsAccepted()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/", () => "ok"), o =>
        {
            o.Timeouts.HeaderWait = TimeSpan.Zero;
            o.Timeouts.IdleConnection = TimeSpan.Zero;
            o.Timeouts.RequestQueue = TimeSpan.Zero;
            o.Timeouts.MinSendBytesPerSecond = 0;
            o.MaxAccepts = 1;
        });
        var settings = Transport.HttpDriver.Shared.SettingsOf(server.Port)!;
        Assert.Equal(TimeSpan.FromMinutes(2), settings.HeaderWait);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.IdleConnection);
        Assert.Equal(150, settings.MinSendBytesPerSecond);
        using var client = server.CreateClient();
        Assert.Equal("ok", await client.GetStringAsync("/"));
    }

    [Fact]
    public async Task OptionsBindFromConfigurationWithHttpSysTypes()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpSysLite:UrlPrefixes:0"] = "http://+:0/bound/",
            ["HttpSysLite:Timeouts:HeaderWait"] = "00:00:07",
            ["HttpSysLite:RequestQueueLimit"] = "3000000000",
            ["HttpSysLite:Http503Verbosity"] = "Full",
            ["HttpSysLite:MaxRequestHeaderCount"] = "50",
        });
        // A callback typed for HttpSys's options picks the second overload.
        builder.WebHost.UseHttpSysLite((HttpSysOptions o) => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(9));
        await using var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<HttpSysLiteOptions>>().Value;
        Assert.Equal("http://+:0/bound/", Assert.Single(options.UrlPrefixes).FullPrefix);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Timeouts.HeaderWait);
        Assert.Equal(TimeSpan.FromSeconds(9), options.Timeouts.IdleConnection);
        Assert.Equal(3_000_000_000L, options.RequestQueueLimit);
        Assert.Equal(Http503VerbosityLevel.Full, options.Http503Verbosity);
        Assert.Equal(50, options.MaxRequestHeaderCount);
        await app.StartAsync(); // a limit beyond int.MaxValue waiting requests is simply no limit here
        await app.StopAsync();
    }
}

public sealed class KestrelHttpSysOptionsTests : HttpSysOptionsTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}
