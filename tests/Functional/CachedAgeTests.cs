using System.Collections.Concurrent;
using HttpSysLite.Features;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Age on responses the driver's cache serves (RFC 9111 sections 4.2.3 and 5.1): a stored response that
/// carried Age is served with that age plus the whole seconds it has been stored, never the frozen
/// value, and the age it arrived with counts against its lifetime. Each test runs a driver of its own on
/// a fake clock, so the seconds pass when the test says. The app counts its runs: 1 means a hit.
/// </summary>
[Collection(nameof(ResponseCachingCollection))]
public sealed class CachedAgeTests
{
    private readonly ConcurrentDictionary<string, int> _runs = new();
    private readonly FakeClock _clock = new();

    /// <summary>Serves "run=N" with Cache-Control public, max-age=?maxage (60), Age: ?age and an ETag.</summary>
    private Task<TestServer> StartAsync() =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app => app.Map("/{**path}", (HttpContext context) =>
        {
            var query = context.Request.Query;
            int run = _runs.AddOrUpdate(context.Request.Path + context.Request.QueryString, 1, static (_, n) => n + 1);
            context.Response.Headers.CacheControl = "public, max-age=" + (query.TryGetValue("maxage", out var maxAge) ? maxAge.ToString() : "60");
            if (query.TryGetValue("age", out var age))
            {
                context.Response.Headers.Age = age.ToString();
            }
            context.Response.Headers.ETag = "\"v1\"";
            string body = $"run={run}";
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        }), options: null, services: _clock.Register);

    private static async Task<RawResponse> GetAsync(TestServer server, string target, string method = "GET", string? extraHeaders = null)
    {
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"{method} {target} HTTP/1.1\r\nHost: localhost\r\n{extraHeaders}\r\n");
        return await connection.ReadResponseAsync(head: method == "HEAD");
    }

    private int Runs(string pathAndQuery) => _runs.TryGetValue(pathAndQuery, out int n) ? n : 0;

    [Fact]
    public async Task AStoredAgeGrowsByTheWholeSecondsTheEntryHasBeenStored()
    {
        await using var server = await StartAsync();
        const string target = "/grows?age=5";
        Assert.Equal("5", (await GetAsync(server, target)).Header("Age"));     // the app's own answer
        Assert.Equal("5", (await GetAsync(server, target)).Header("Age"));     // a hit, at once
        _clock.Advance(TimeSpan.FromSeconds(7));
        var hit = await GetAsync(server, target);
        Assert.Equal("12", hit.Header("Age"));
        Assert.Equal("run=1", hit.BodyText);
        Assert.Single(hit.Headers, h => h.Key.Equals("Age", StringComparison.OrdinalIgnoreCase)); // replaced, not added to
        _clock.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Equal("12", (await GetAsync(server, target)).Header("Age"));    // whole seconds only
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("13", (await GetAsync(server, target)).Header("Age"));
        // The cache's 304 and its answer to HEAD are served from the entry too, so they say its age.
        var notModified = await GetAsync(server, target, extraHeaders: "If-None-Match: \"v1\"\r\n");
        Assert.Equal(304, notModified.StatusCode);
        Assert.Equal("13", notModified.Header("Age"));
        Assert.Equal("13", (await GetAsync(server, target, "HEAD")).Header("Age"));
        Assert.Equal(1, Runs(target));
    }

    [Fact]
    public async Task TheAgeAResponseArrivesWithCountsAgainstItsLifetime()
    {
        await using var server = await StartAsync();
        const string target = "/lifetime?maxage=10&age=4";
        await GetAsync(server, target);
        _clock.Advance(TimeSpan.FromSeconds(5.9));
        Assert.Equal("9", (await GetAsync(server, target)).Header("Age"));
        Assert.Equal(1, Runs(target)); // still fresh: 9 s old of 10
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        await GetAsync(server, target);
        Assert.Equal(2, Runs(target)); // 10 s old: stale, so the app answers again (RFC 9111 section 4.2)
    }

    [Fact]
    public async Task AnAgeListCountsItsFirstMember()
    {
        await using var server = await StartAsync();
        const string target = "/list?age=3,%209";
        await GetAsync(server, target);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("5", (await GetAsync(server, target)).Header("Age")); // RFC 9111 section 5.1
        Assert.Equal(1, Runs(target));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("60")] // as old as its max-age: already stale
    public async Task AResponseWhoseAgeIsNotUsableIsNotStored(string age)
    {
        await using var server = await StartAsync();
        string target = "/unusable?age=" + Uri.EscapeDataString(age);
        await GetAsync(server, target);
        await GetAsync(server, target);
        Assert.Equal(2, Runs(target));
    }

    [Fact]
    public async Task AResponseWithoutAgeIsServedWithoutOne()
    {
        await using var server = await StartAsync();
        await GetAsync(server, "/ageless");
        _clock.Advance(TimeSpan.FromSeconds(5));
        var hit = await GetAsync(server, "/ageless");
        Assert.Equal(1, Runs("/ageless"));
        Assert.Null(hit.Header("Age"));
    }

    /// <summary>
    /// The case that found this: ASP.NET Core's ResponseCaching middleware replays its stored responses with
    /// an Age. Once the driver's entry is gone and the middleware answers, the driver stores the replay, and
    /// its hits must go on ageing from there rather than repeat the middleware's number for good.
    /// </summary>
    [Fact]
    public async Task TheResponseCachingMiddlewaresReplayKeepsAgeing()
    {
        int runs = 0;
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.UseResponseCaching();
            app.MapGet("/replayed", (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "public, max-age=600";
                string body = $"run={Interlocked.Increment(ref runs)}";
                context.Response.ContentLength = body.Length;
                return context.Response.WriteAsync(body);
            });
        }, options: null, services: services =>
        {
            services.AddResponseCaching();
            _clock.Register(services);
        });
        var cache = server.Server.Features.Get<IHttpSysLiteCacheFeature>()!;

        Assert.Null((await GetAsync(server, "/replayed")).Header("Age")); // the app's answer, stored by both caches
        // The middleware stores its copy after the response has gone out, so the first request after the
        // driver's flush may still run the app: flush and ask again (bounded) until the middleware replays.
        RawResponse replay;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            Assert.Equal(1, cache.Flush($"http://localhost:{server.Port}/replayed"));
            replay = await GetAsync(server, "/replayed");
            if (replay.Header("Age") is not null)
            {
                break; // the middleware's replay, stored by the driver
            }
            Assert.True(DateTime.UtcNow < deadline, "The ResponseCaching middleware never replayed within 10 s.");
            await Task.Delay(20);
        }
        int runsAtReplay = Volatile.Read(ref runs);
        int replayedAge = int.Parse(replay.Header("Age")!);
        _clock.Advance(TimeSpan.FromSeconds(30));
        var hit = await GetAsync(server, "/replayed");
        Assert.Equal(replay.BodyText, hit.BodyText);
        Assert.Equal((replayedAge + 30).ToString(System.Globalization.CultureInfo.InvariantCulture), hit.Header("Age"));
        Assert.Equal(runsAtReplay, Volatile.Read(ref runs));
    }
}
