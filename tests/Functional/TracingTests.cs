using Microsoft.AspNetCore.Server.HttpSys;
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The HttpSysLite EventSource seen through an EventListener: the exact event sequence of each
/// scenario, filtered to the test's own connection (found by its client port in ConnIdAssgn), ids that
/// match what the app sees, and one activity id per request.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class TracingTests : IDisposable
{
    private readonly TraceRecorder _recorder = new();

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public void TheSourceNameAndGuidArePinned()
    {
        Assert.Equal("HttpSysLite", HttpSysLiteEventSource.Log.Name);
        Assert.Equal(new Guid("346adbd0-8697-5ebb-4072-72bb85e8a78c"), HttpSysLiteEventSource.Log.Guid);
        Assert.Equal(HttpSysLiteEventSource.Log.Guid, EventSource.GetGuid(typeof(HttpSysLiteEventSource)));
    }

    [Fact]
    public async Task APlainRequestOnANewConnection()
    {
        string? traceIdentifier = null;
        string? connectionId = null;
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", (HttpContext context) =>
        {
            traceIdentifier = context.TraceIdentifier;
            connectionId = context.Features.Get<IHttpConnectionFeature>()!.ConnectionId;
            return "Hello, World!";
        }));
        var events = await RunAsync(server, "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", responses: 1);
        // A minimal-API string result starts the response (the head: FastResp), writes the body, and completes (FastSend).
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "Parse", "Deliver", "FastResp", "FastSend", "SendComplete", "ConnClose", "ConnCleanup"], Names(events));

        var parse = events.Single(e => e.EventName == "Parse");
        Assert.Equal("GET", parse.Payload("HttpVerb"));
        Assert.Equal("/plaintext", parse.Payload("Url"));
        ulong requestId = (ulong)parse.Payload("RequestId")!;
        Assert.Equal(requestId.ToString("X16"), traceIdentifier);
        Assert.Equal(((ulong)events[0].Payload("ConnectionId")!).ToString("X16"), connectionId);
        var fastResp = events.Single(e => e.EventName == "FastResp");
        Assert.Equal(200, fastResp.Payload("StatusCode"));
        Assert.Equal("Nocache", fastResp.Payload("CachePolicy"));
        Assert.True((int)fastResp.Payload("HeaderLength")! > 0);
        Assert.Equal(200, events.Single(e => e.EventName == "FastSend").Payload("HttpStatus"));
        Assert.Equal(13L, events.Single(e => e.EventName == "SendComplete").Payload("BytesSent"));
        Assert.Equal(false, events.Single(e => e.EventName == "ConnClose").Payload("Abortive"));

        // Every event of the request carries the request's activity id.
        foreach (var e in events.Where(e => e.Payload("RequestId") is not null))
        {
            Assert.Equal(HttpSysLiteEventSource.RequestActivityId(requestId), e.ActivityId);
        }
    }

    /// <summary>
    /// HTTP.sys's typical request reads FastResp (the app passed the response) then FastSend (the last
    /// response was queued for sending), once per response, however the app wrote its body.
    /// </summary>
    [Theory]
    [InlineData("/plaintext")]          // the sample's: Content-Length declared, one write, the head goes out before the body
    [InlineData("/traced-chunked")]     // no length, three flushed writes: chunked
    [InlineData("/traced-no-body")]     // 204, nothing written
    public async Task EveryWritePatternReadsFastRespThenOneFastSend(string path)
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            MinimalApi.SampleApp.MapEndpoints(app, kestrel: false);
            app.MapGet("/traced-chunked", async (HttpContext context) =>
            {
                for (int i = 0; i < 3; i++)
                {
                    await context.Response.WriteAsync("piece ");
                    await context.Response.Body.FlushAsync();
                }
            });
            app.MapGet("/traced-no-body", (HttpContext context) =>
            {
                context.Response.StatusCode = 204;
                return Task.CompletedTask;
            });
        });
        var events = await RunAsync(server, $"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", responses: 1);
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "Parse", "Deliver", "FastResp", "FastSend", "SendComplete", "ConnClose", "ConnCleanup"], Names(events));
        int status = (int)events.Single(e => e.EventName == "FastResp").Payload("StatusCode")!;
        Assert.Equal(path == "/traced-no-body" ? 204 : 200, status);
        Assert.Equal(status, events.Single(e => e.EventName == "FastSend").Payload("HttpStatus"));
        Assert.Equal(path switch { "/plaintext" => 13L, "/traced-chunked" => 18L, _ => 0L }, events.Single(e => e.EventName == "SendComplete").Payload("BytesSent"));
    }

    [Fact]
    public async Task TwoKeepAliveRequests()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", () => "Hello, World!"));
        var events = await RunAsync(server, "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", responses: 2);
        Assert.Equal(["ConnConnect", "ConnIdAssgn",
            "RecvReq", "Parse", "Deliver", "FastResp", "FastSend", "SendComplete",
            "RecvReq", "Parse", "Deliver", "FastResp", "FastSend", "SendComplete",
            "ConnClose", "ConnCleanup"], Names(events));
        var requestIds = events.Where(e => e.EventName == "RecvReq").Select(e => (ulong)e.Payload("RequestId")!).ToArray();
        Assert.NotEqual(requestIds[0], requestIds[1]);
        Assert.Equal(2, events.Where(e => e.EventName == "RecvReq").Select(e => e.ActivityId).Distinct().Count());
        Assert.Equal(HttpSysLiteEventSource.RequestActivityId(requestIds[1]), events.Last(e => e.EventName == "SendComplete").ActivityId);
    }

    [Fact]
    public async Task ACacheHitIsServedFromTheCacheWithoutDeliver()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/traced-cache", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=60";
            context.Response.ContentLength = 6;
            return context.Response.WriteAsync("cached");
        }));
        var first = await RunAsync(server, "GET /traced-cache HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", responses: 1);
        Assert.Contains("Deliver", Names(first));
        Assert.Equal("TimeToLive", first.Single(e => e.EventName == "FastResp").Payload("CachePolicy"));
        var added = _recorder.Events.Where(e => e.EventName == "AddedCacheEntry" && ((string)e.Payload("Url")!).EndsWith("/traced-cache", StringComparison.Ordinal)).ToList();
        Assert.Single(added);
        Assert.Equal(200, added[0].Payload("StatusCode"));

        var hit = await RunAsync(server, "GET /traced-cache HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", responses: 1);
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "Parse", "SrvdFrmCache", "ConnClose", "ConnCleanup"], Names(hit));
        Assert.Equal("/traced-cache", hit.Single(e => e.EventName == "SrvdFrmCache").Payload("Url"));
    }

    [Fact]
    public async Task AParseFailureIsParseRequestFailedWithItsReason()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", () => "Hello, World!"));
        var events = await RunAsync(server, "GET /plaintext HTTP/1.1\r\n\r\n", responses: 1);
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "ParseRequestFailed", "ConnClose", "ConnCleanup"], Names(events));
        var failed = events.Single(e => e.EventName == "ParseRequestFailed");
        Assert.Equal("InvalidHost", failed.Payload("Reason"));
        Assert.Equal(400, failed.Payload("StatusCode"));
        Assert.Equal(EventLevel.Warning, failed.Level);
    }

    [Fact]
    public async Task AHeaderWaitTimeoutIsConnTimedOut()
    {
        var fake = new FakeClock();
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", () => "Hello, World!"),
            o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(30), services: fake.Register);
        var expire = Task.Run(async () =>
        {
            await fake.WaitForTimerAsync(Transport.Connections.TimerKind.HeaderWait);
            fake.Advance(TimeSpan.FromSeconds(30) + FakeClock.Late);
        });
        var events = await RunAsync(server, "GET /plaintext HTTP/1.1\r\nHost: a\r\n", responses: 1);
        await expire;
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "ConnTimedOut", "ParseRequestFailed", "ConnClose", "ConnCleanup"], Names(events));
        Assert.Equal("Timer_HeaderWait", events.Single(e => e.EventName == "ConnTimedOut").Payload("TimerType"));
        Assert.Equal(408, events.Single(e => e.EventName == "ParseRequestFailed").Payload("StatusCode"));
    }

    [Fact]
    public async Task AQueueFullRejectionIsRequestRejected()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/slow", async () =>
        {
            entered.TrySetResult();
            await release.Task;
            return "done";
        }), o =>
        {
            o.RequestQueueName = "traced-queue";
            o.MaxConcurrentRequests = 1;
            o.RequestQueueLimit = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Limited;
        });
        await using var running = await server.ConnectAsync();
        await running.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await using var waiting = await server.ConnectAsync();
        await waiting.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await WaitUntilAsync(() => _recorder.Events.Count(e => e.EventName == "Parse" && (string)e.Payload("Url")! == "/slow") >= 2);
        await Task.Delay(200); // the second request is in the queue

        var events = await RunAsync(server, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", responses: 1);
        release.TrySetResult();
        Assert.Equal(["ConnConnect", "ConnIdAssgn", "RecvReq", "Parse", "RequestRejected", "ConnClose", "ConnCleanup"], Names(events));
        var rejected = events.Single(e => e.EventName == "RequestRejected");
        Assert.Equal("QueueFull", rejected.Payload("Reason"));
        Assert.Equal("traced-queue", rejected.Payload("RequestQueueName"));
        Assert.Equal(503, rejected.Payload("StatusCode"));
    }

    [Fact]
    public async Task AddUrlAtStartAndRemUrlAtStop()
    {
        var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", () => "Hello, World!"));
        string prefix = $"http://+:{server.Port}/";
        var added = _recorder.Events.Where(e => e.EventName == "AddUrl" && (string)e.Payload("Url")! == prefix).ToList();
        Assert.Single(added);
        await server.DisposeAsync();
        var removed = _recorder.Events.Where(e => e.EventName == "RemUrl" && (string)e.Payload("Url")! == prefix).ToList();
        Assert.Single(removed);
        Assert.Equal(added[0].Payload("UrlGroupId"), removed[0].Payload("UrlGroupId"));
    }

    /// <summary>Sends on a new connection, reads the responses, waits for the connection's cleanup, and returns its events in order.</summary>
    private async Task<List<EventWrittenEventArgs>> RunAsync(TestServer server, string request, int responses)
    {
        int clientPort;
        await using (var connection = await server.ConnectAsync())
        {
            clientPort = ((System.Net.IPEndPoint)connection.Socket.LocalEndPoint!).Port;
            await connection.SendAsync(request);
            for (int i = 0; i < responses; i++)
            {
                await connection.ReadResponseAsync();
            }
            await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(10));
        }
        ulong id = 0;
        await WaitUntilAsync(() => (id = ConnectionOf(clientPort)) != 0 && _recorder.Events.Any(e => e.EventName == "ConnCleanup" && (ulong)e.Payload("ConnectionId")! == id));
        var requestIds = new HashSet<ulong>(_recorder.Events
            .Where(e => e.EventName == "RecvReq" && (ulong)e.Payload("ConnectionId")! == id)
            .Select(e => (ulong)e.Payload("RequestId")!));
        return _recorder.Events.Where(e =>
            (e.Payload("ConnectionId") is ulong connection && connection == id)
            || (e.Payload("RequestId") is ulong request && requestIds.Contains(request))).ToList();
    }

    private ulong ConnectionOf(int clientPort) =>
        _recorder.Events.Where(e => e.EventName == "ConnIdAssgn" && (int)e.Payload("RemotePort")! == clientPort)
            .Select(e => (ulong)e.Payload("ConnectionId")!).LastOrDefault();

    private static List<string?> Names(List<EventWrittenEventArgs> events) => events.Select(e => e.EventName).ToList();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the expected events did not arrive");
            await Task.Delay(20);
        }
    }
}

/// <summary>Records every HttpSysLite event, in order.</summary>
internal sealed class TraceRecorder : EventListener
{
    private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

    public IReadOnlyList<EventWrittenEventArgs> Events => _events.ToArray();

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == HttpSysLiteEventSource.SourceName)
        {
            EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // ActivityId is read lazily from the current thread: read it here, on the thread that wrote the event.
        _ = eventData.ActivityId;
        _events?.Enqueue(eventData);
    }
}

internal static class EventPayloads
{
    public static object? Payload(this EventWrittenEventArgs e, string name)
    {
        int index = e.PayloadNames?.IndexOf(name) ?? -1;
        return index >= 0 ? e.Payload![index] : null;
    }
}
