using Microsoft.AspNetCore.Server.HttpSys;
using System.Collections.Concurrent;
using System.Net;
using HttpSysLite.Features;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The kernel-style response cache, in the spirit of HttpSys's ResponseCachingTests: the app counts its
/// own invocations, so "1,1" means the second answer came from the cache and "1,2" means it did not.
/// The endpoint shapes its response from query flags, so each rule is one row.
/// </summary>
[Collection(nameof(ResponseCachingCollection))]
public sealed class ResponseCachingTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _runs = new();
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await StartAsync(static _ => { });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<TestServer> StartAsync(Action<HttpSysLiteOptions> configure, FakeClock? clock = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app => app.Map("/{**path}", Respond), configure, services: clock is null ? null : clock.Register);

    /// <summary>
    /// cc=Cache-Control, expires=seconds from now, cookie, vary, pragma, status, size=body bytes,
    /// nocl (no Content-Length), flush (flush before finishing), etag, lm=Last-Modified seconds ago.
    /// </summary>
    private async Task Respond(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string key = request.Method + " " + request.Host + request.Path + request.QueryString;
        int run = _runs.AddOrUpdate(request.Path + request.QueryString, 1, static (_, n) => n + 1);
        _ = key;
        var q = request.Query;
        if (q.TryGetValue("status", out var status))
        {
            response.StatusCode = int.Parse(status!);
        }
        if (q.TryGetValue("cc", out var cc))
        {
            response.Headers.CacheControl = cc.ToString();
        }
        if (q.TryGetValue("expires", out var expires))
        {
            response.Headers.Expires = DateTimeOffset.UtcNow.AddSeconds(int.Parse(expires!)).ToString("r");
        }
        if (q.ContainsKey("cookie"))
        {
            response.Headers.SetCookie = "a=b";
        }
        if (q.ContainsKey("vary"))
        {
            response.Headers.Vary = "Accept";
        }
        if (q.ContainsKey("pragma"))
        {
            response.Headers.Pragma = "no-cache";
        }
        if (q.TryGetValue("etag", out var etag))
        {
            response.Headers.ETag = etag.ToString();
        }
        if (q.TryGetValue("lm", out var lm))
        {
            response.Headers.LastModified = DateTimeOffset.UtcNow.AddSeconds(-int.Parse(lm!)).ToString("r");
        }
        if (response.StatusCode == 304)
        {
            return;
        }
        string text = $"run={run};";
        int size = q.TryGetValue("size", out var sizeText) ? int.Parse(sizeText!) : text.Length;
        byte[] body = new byte[size];
        System.Text.Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, size)), body);
        if (!q.ContainsKey("nocl"))
        {
            response.ContentLength = size;
        }
        if (q.ContainsKey("flush"))
        {
            await response.Body.WriteAsync(body.AsMemory(0, size / 2));
            await response.Body.FlushAsync();
            await response.Body.WriteAsync(body.AsMemory(size / 2));
            return;
        }
        if (q.ContainsKey("nocl"))
        {
            // GetSpan/Advance with no flush: the length is known when the app finishes.
            body.CopyTo(response.BodyWriter.GetSpan(size));
            response.BodyWriter.Advance(size);
            return;
        }
        await response.Body.WriteAsync(body);
    }

    private async Task<RawResponse> GetAsync(string target, string method = "GET", string? extraHeaders = null, string host = "localhost")
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync($"{method} {target} HTTP/1.1\r\nHost: {host}:{_server.Port}\r\n{extraHeaders}\r\n");
        return await connection.ReadResponseAsync(head: method == "HEAD");
    }

    /// <summary>One GET on a connection of its own, to a server of the test's own.</summary>
    private static async Task GetFromAsync(TestServer server, string target)
    {
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await connection.ReadResponseAsync();
    }

    private int Runs(string pathAndQuery) => _runs.TryGetValue(pathAndQuery, out int n) ? n : 0;

    /// <summary>Query → whether a second GET is answered from the cache.</summary>
    public static TheoryData<string, bool> Rules => new()
    {
        { "?cc=public,max-age=30", true },
        { "?cc=public,s-maxage=30", true },
        { "?cc=public&expires=30", true },
        { "?cc=public,max-age=30&status=404", true },           // status is not a reason not to cache, but 206/304 are
        { "?cc=public,max-age=30&etag=%22v1%22", true },
        { "?cc=public,max-age=30&nocl", true },                 // finished without a flush: length known at the head
        { "", false },                                           // no Cache-Control
        { "?cc=max-age=30", false },                             // not public
        { "?cc=private,max-age=30", false },
        { "?cc=public", false },                                 // no lifetime
        { "?cc=public,max-age=0", false },
        { "?cc=public,s-maxage=0,max-age=30", false },           // s-maxage wins over max-age
        { "?cc=public&expires=-30", false },                     // Expires in the past
        { "?cc=public,no-store,max-age=30", false },
        { "?cc=public,max-age=30&cookie", false },               // Set-Cookie
        { "?cc=public,max-age=30&vary", false },                 // Vary
        { "?cc=public,max-age=30&pragma", false },               // Pragma
        { "?cc=public,max-age=30&status=206", false },
        { "?cc=public,max-age=30&nocl&flush", false },           // an early flush without a length: not whole at its head
        { "?cc=public,max-age=30&size=300000", false },          // over MaxEntryBytes (256 KiB)
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task RuleDecidesWhetherTheSecondRequestIsCached(string query, bool cached)
    {
        string target = "/rule" + query;
        var first = await GetAsync(target);
        var second = await GetAsync(target);
        Assert.Equal(first.StatusCode, second.StatusCode);
        Assert.Equal(cached ? 1 : 2, Runs("/rule" + query));
        Assert.Equal(first.Body.Length, second.Body.Length);
        if (cached)
        {
            Assert.Equal(first.Body, second.Body);
            Assert.NotNull(second.Header("Date"));
        }
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task OnlyGetResponsesAreStored(string method)
    {
        await GetAsync("/method?cc=public,max-age=30", method, "Content-Length: 0\r\n");
        await GetAsync("/method?cc=public,max-age=30", method, "Content-Length: 0\r\n");
        Assert.Equal(2, Runs("/method?cc=public,max-age=30"));
    }

    [Fact]
    public async Task HeadIsAnsweredFromTheGetEntryWithoutABody()
    {
        var get = await GetAsync("/head?cc=public,max-age=30");
        var head = await GetAsync("/head?cc=public,max-age=30", "HEAD");
        Assert.Equal(200, head.StatusCode);
        Assert.Equal(get.Header("Content-Length"), head.Header("Content-Length"));
        Assert.Equal(1, Runs("/head?cc=public,max-age=30"));
    }

    [Fact]
    public async Task AuthorizationNeverSeesACachedEntryAndIsNeverStored()
    {
        await GetAsync("/auth?cc=public,max-age=30");
        await GetAsync("/auth?cc=public,max-age=30", extraHeaders: "Authorization: Bearer x\r\n");
        Assert.Equal(2, Runs("/auth?cc=public,max-age=30"));
        await GetAsync("/auth2?cc=public,max-age=30", extraHeaders: "Authorization: Bearer x\r\n");
        await GetAsync("/auth2?cc=public,max-age=30");
        Assert.Equal(2, Runs("/auth2?cc=public,max-age=30"));
    }

    [Fact]
    public async Task RangeRequestsGoToTheApp()
    {
        await GetAsync("/range?cc=public,max-age=30");
        await GetAsync("/range?cc=public,max-age=30", extraHeaders: "Range: bytes=0-1\r\n");
        Assert.Equal(2, Runs("/range?cc=public,max-age=30"));
    }

    [Fact]
    public async Task QueryStringsAreSeparateEntries()
    {
        await GetAsync("/q?cc=public,max-age=30&a=1");
        await GetAsync("/q?cc=public,max-age=30&a=2");
        await GetAsync("/q?cc=public,max-age=30&a=1");
        Assert.Equal(1, Runs("/q?cc=public,max-age=30&a=1"));
        Assert.Equal(1, Runs("/q?cc=public,max-age=30&a=2"));
    }

    [Fact]
    public async Task HostsAreSeparateEntriesButHostCaseIsNot()
    {
        await GetAsync("/host?cc=public,max-age=30", host: "localhost");
        await GetAsync("/host?cc=public,max-age=30", host: "LOCALHOST");
        Assert.Equal(1, Runs("/host?cc=public,max-age=30"));
        await GetAsync("/host?cc=public,max-age=30", host: "127.0.0.1");
        Assert.Equal(2, Runs("/host?cc=public,max-age=30")); // an IP and a name are different hosts

        // An absolute-form target names its own host: it must not be answered by another host's entry.
        // (Its Host must agree with it, RFC 9112 section 3.2.2; a disagreeing one is a 400.)
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync($"GET http://other.example:{_server.Port}/host?cc=public,max-age=30 HTTP/1.1\r\nHost: other.example:{_server.Port}\r\n\r\n");
        await connection.ReadResponseAsync();
        Assert.Equal(3, Runs("/host?cc=public,max-age=30"));
    }

    [Fact]
    public async Task MatchingIfNoneMatchGets304FromTheCache()
    {
        string target = "/etag?cc=public,max-age=30&etag=%22v1%22";
        await GetAsync(target);
        var notModified = await GetAsync(target, extraHeaders: "If-None-Match: \"v0\", \"v1\"\r\n");
        Assert.Equal(304, notModified.StatusCode);
        Assert.Equal("\"v1\"", notModified.Header("ETag"));
        Assert.Empty(notModified.Body);
        var other = await GetAsync(target, extraHeaders: "If-None-Match: \"v2\"\r\n");
        Assert.Equal(200, other.StatusCode);
        Assert.Equal(1, Runs(target));
    }

    [Fact]
    public async Task IfModifiedSinceAfterLastModifiedGets304FromTheCache()
    {
        string target = "/lm?cc=public,max-age=30&lm=3600";
        await GetAsync(target);
        var notModified = await GetAsync(target, extraHeaders: $"If-Modified-Since: {DateTimeOffset.UtcNow:r}\r\n");
        Assert.Equal(304, notModified.StatusCode);
        var modified = await GetAsync(target, extraHeaders: $"If-Modified-Since: {DateTimeOffset.UtcNow.AddDays(-1):r}\r\n");
        Assert.Equal(200, modified.StatusCode);
        Assert.Equal(1, Runs(target));
    }

    [Fact]
    public async Task EntriesExpire()
    {
        // A driver of its own on a fake clock: the lifetime passes when the test says.
        var clock = new FakeClock();
        await using var server = await StartAsync(static _ => { }, clock);
        Task Get(string target) => GetFromAsync(server, target);

        await Get("/expire?cc=public,max-age=10");
        await Get("/expire?cc=public,max-age=10");
        Assert.Equal(1, Runs("/expire?cc=public,max-age=10"));
        clock.Advance(TimeSpan.FromSeconds(9.9));
        await Get("/expire?cc=public,max-age=10");
        Assert.Equal(1, Runs("/expire?cc=public,max-age=10")); // still fresh
        clock.Advance(TimeSpan.FromSeconds(0.1));
        await Get("/expire?cc=public,max-age=10");
        Assert.Equal(2, Runs("/expire?cc=public,max-age=10"));
    }

    [Fact]
    public async Task AnUnsafeMethodInvalidatesItsUrl()
    {
        string target = "/invalidate?cc=public,max-age=30";
        await GetAsync(target);
        await GetAsync(target);
        Assert.Equal(1, Runs(target));
        await GetAsync(target, "POST", "Content-Length: 0\r\n");
        await GetAsync(target);
        Assert.Equal(3, Runs(target)); // the POST ran, and the GET after it ran again
    }

    [Fact]
    public async Task FlushByUrlAndByPrefix()
    {
        var cache = _server.Server.Features.Get<IHttpSysLiteCacheFeature>()!;
        await GetAsync("/flush/a?cc=public,max-age=30");
        await GetAsync("/flush/b?cc=public,max-age=30");
        await GetAsync("/other?cc=public,max-age=30");

        Assert.Equal(1, cache.Flush($"http://localhost:{_server.Port}/flush/a?cc=public,max-age=30"));
        await GetAsync("/flush/a?cc=public,max-age=30");
        Assert.Equal(2, Runs("/flush/a?cc=public,max-age=30"));

        Assert.Equal(2, cache.Flush($"http://localhost:{_server.Port}/flush/", recursive: true));
        await GetAsync("/flush/b?cc=public,max-age=30");
        await GetAsync("/other?cc=public,max-age=30");
        Assert.Equal(2, Runs("/flush/b?cc=public,max-age=30"));
        Assert.Equal(1, Runs("/other?cc=public,max-age=30"));
    }

    [Fact]
    public async Task CachingCanBeTurnedOff()
    {
        await using var off = await StartAsync(o => o.EnableResponseCaching = false);
        using var client = off.CreateClient();
        await client.GetStringAsync("/off?cc=public,max-age=30");
        await client.GetStringAsync("/off?cc=public,max-age=30");
        Assert.Equal(2, Runs("/off?cc=public,max-age=30"));
    }

    [Fact]
    public async Task AHitNeverRunsTheAppNorCreatesAnHttpContextAndWorksWhileTheQueueIsFull()
    {
        int contexts = 0;
        var factory = new CountingHttpContextFactory();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.Use(next => context => { Interlocked.Increment(ref contexts); return next(context); });
            app.MapGet("/hold", async () => { entered.TrySetResult(); await release.Task; return "held"; });
            app.MapGet("/page", (HttpContext c) =>
            {
                // A length known at the head makes the response whole from the start: cacheable.
                c.Response.Headers.CacheControl = "public, max-age=30";
                c.Response.ContentLength = 4;
                return c.Response.WriteAsync("page");
            });
        }, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.RequestQueueLimit = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Limited;
        }, services: s => s.AddSingleton<IHttpContextFactory>(factory));
        using var client = server.CreateClient();
        Assert.Equal("page", await client.GetStringAsync("/page"));
        Assert.Equal(1, Volatile.Read(ref contexts));
        Assert.Equal(1, factory.Created);

        // Saturate the app and fill its queue.
        await using var holder = await server.ConnectAsync();
        await holder.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using var queued = await server.ConnectAsync();
        await queued.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await Task.Delay(200);

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("page", await client.GetStringAsync("/page")); // from the cache, past a full queue
        }
        Assert.Equal(2, Volatile.Read(ref contexts)); // the app ran for /page once and /hold once
        Assert.Equal(2, factory.Created);              // and hosting made no HttpContext for the hits
        release.SetResult();
        Assert.Equal("held", (await holder.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task TheScavengerRemovesEntriesNotHitForItsPeriodAndMaxBytesEvictsTheLeastRecentlyUsed()
    {
        var clock = new FakeClock();
        var cache = clock.Driver.Cache;
        await using var server = await StartAsync(o =>
        {
            o.ResponseCache.ScavengerPeriod = TimeSpan.FromSeconds(10);
            o.ResponseCache.MaxBytes = 3000;
        }, clock);
        {
            Task Get(string target) => GetFromAsync(server, target);

            await Get("/scavenge?cc=public,max-age=60");
            await Get("/scavenge?cc=public,max-age=60");
            Assert.Equal(1, Runs("/scavenge?cc=public,max-age=60"));
            clock.Advance(TimeSpan.FromSeconds(10)); // not hit for a period
            await Get("/scavenge?cc=public,max-age=60");
            Assert.Equal(2, Runs("/scavenge?cc=public,max-age=60"));

            // Entries of about 700 bytes each under a 3000-byte bound: the oldest goes first.
            await Get("/lru/1?cc=public,max-age=60&size=400");
            await Get("/lru/2?cc=public,max-age=60&size=400");
            await Get("/lru/3?cc=public,max-age=60&size=400");
            await Get("/lru/4?cc=public,max-age=60&size=400");
            await Get("/lru/5?cc=public,max-age=60&size=400");
            Assert.True(cache.Bytes <= 3000, $"{cache.Bytes} bytes cached");
            await Get("/lru/5?cc=public,max-age=60&size=400");
            Assert.Equal(1, Runs("/lru/5?cc=public,max-age=60&size=400"));
            await Get("/lru/1?cc=public,max-age=60&size=400");
            Assert.Equal(2, Runs("/lru/1?cc=public,max-age=60&size=400"));
        }
    }

    [Fact]
    public async Task TheHttpSysLiteMeterCountsHitsMissesStoresAndBytes()
    {
        var values = new ConcurrentDictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "HttpSysLite" && instrument.Name.StartsWith("httpsyslite.cache.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.Start();

        // An empty cache is not even consulted (one branch per request), so seed it first.
        await GetAsync("/meter-seed?cc=public,max-age=30");
        listener.RecordObservableInstruments();
        var before = new Dictionary<string, long>(values);
        await GetAsync("/meter?cc=public,max-age=30");   // a miss, then a store
        await GetAsync("/meter?cc=public,max-age=30");   // a hit
        await GetAsync("/meter?cc=public,max-age=30");   // a hit
        listener.RecordObservableInstruments();

        Assert.Equal(2, values["httpsyslite.cache.hits"] - before["httpsyslite.cache.hits"]);
        Assert.Equal(1, values["httpsyslite.cache.misses"] - before["httpsyslite.cache.misses"]);
        Assert.Equal(1, values["httpsyslite.cache.stores"] - before["httpsyslite.cache.stores"]);
        Assert.True(values["httpsyslite.cache.bytes"] > before["httpsyslite.cache.bytes"]);
        Assert.Equal(1, Runs("/meter?cc=public,max-age=30"));
    }

    [Fact]
    public void ThereAreAtLeastThirtyCases() => Assert.True(Rules.Count() + 5 + 11 >= 30);
}

/// <summary>Counts the HttpContexts hosting creates (a custom factory turns off hosting's context reuse, so each request creates one).</summary>
internal sealed class CountingHttpContextFactory : IHttpContextFactory
{
    private int _created;

    public int Created => Volatile.Read(ref _created);

    public HttpContext Create(Microsoft.AspNetCore.Http.Features.IFeatureCollection featureCollection)
    {
        Interlocked.Increment(ref _created);
        return new DefaultHttpContext(featureCollection);
    }

    public void Dispose(HttpContext httpContext)
    {
    }
}

/// <summary>The response cache is process-wide: its tests run alone, so limits set by one test do not reach another.</summary>
[CollectionDefinition(nameof(ResponseCachingCollection), DisableParallelization = true)]
public sealed class ResponseCachingCollection
{
}
