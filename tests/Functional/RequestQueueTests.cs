using Microsoft.AspNetCore.Server.HttpSys;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// HttpSysLite's request queues (HTTP.sys semantics; Kestrel has no equivalent): requests wait when the
/// app is saturated, and beyond the queue's limit or timeout they are turned away per Http503Verbosity.
/// </summary>
public sealed class RequestQueueTests
{
    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static Task<TestServer> StartSaturableAsync(Gate gate, Action<HttpSysLiteOptions> options, FakeClock? clock = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.MapGet("/hold", async () =>
            {
                gate.Entered.TrySetResult();
                await gate.Release.Task;
                return "held";
            });
            app.MapGet("/fast", () => "fast");
        }, options, services: clock is null ? null : clock.Register);

    [Theory]
    [InlineData(Http503VerbosityLevel.Limited, "HTTP/1.1 503 Service Unavailable")]
    [InlineData(Http503VerbosityLevel.Full, "HTTP/1.1 503 Service Unavailable (queue full)")]
    public async Task ASaturatedAppQueuesRequestsAndTurnsAwayThoseBeyondTheLimit(Http503VerbosityLevel verbosity, string statusLine)
    {
        var gate = new Gate();
        await using var server = await StartSaturableAsync(gate, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.RequestQueueLimit = 1;
            o.Http503Verbosity = verbosity;
        });

        await using var holder = await server.ConnectAsync();
        await holder.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The app is saturated: the next request waits in the queue...
        await using var waiter = await server.ConnectAsync();
        await waiter.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await Task.Delay(200);

        // ...and the queue is full, so the one after is turned away.
        await using var refused = await server.ConnectAsync();
        await refused.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await refused.ReadResponseAsync();
        Assert.Equal(statusLine, response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await refused.IsClosedByServerAsync());

        // Capacity returns: the held request finishes, then the queued one runs.
        gate.Release.SetResult();
        Assert.Equal("held", (await holder.ReadResponseAsync()).BodyText);
        Assert.Equal("fast", (await waiter.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task BasicVerbosityResetsTheConnection()
    {
        var gate = new Gate();
        await using var server = await StartSaturableAsync(gate, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.RequestQueueLimit = 1;
        });
        await using var holder = await server.ConnectAsync();
        await holder.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using var waiter = await server.ConnectAsync();
        await waiter.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await Task.Delay(200);

        await using var refused = await server.ConnectAsync();
        await refused.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var ex = await Record.ExceptionAsync(() => refused.ReadResponseAsync());
        Assert.True(ex is IOException or SocketException, "no response expected, only the connection's end");
        gate.Release.SetResult();
        Assert.Equal("fast", (await waiter.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task ARequestWaitingLongerThanTheQueueTimeoutGets503()
    {
        var gate = new Gate();
        var clock = new FakeClock();
        await using var server = await StartSaturableAsync(gate, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Full;
            o.Timeouts.RequestQueue = TimeSpan.FromSeconds(30);
        }, clock);
        await using var holder = await server.ConnectAsync();
        await holder.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await using var waiter = await server.ConnectAsync();
        await waiter.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var queue = clock.Driver.Connections.First(c => c.ActiveGroup is not null).ActiveGroup!.Queue;
        await FakeClock.WaitUntilAsync(() => queue.WaitingCount == 1, "the request did not wait in the queue");
        clock.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await waiter.WaitForDataAsync(TimeSpan.FromMilliseconds(200))); // not before its time
        clock.Time.Advance(TimeSpan.FromSeconds(1));
        var response = await waiter.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 503 Service Unavailable (queue timeout)", response.StatusLine);
        gate.Release.SetResult();
        Assert.Equal("held", (await holder.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task UnderTheLimitRequestsRunWithoutWaiting()
    {
        var gate = new Gate();
        await using var server = await StartSaturableAsync(gate, o => o.MaxConcurrentRequests = 2);
        await using var holder = await server.ConnectAsync();
        await holder.SendAsync("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var client = server.CreateClient();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("fast", await client.GetStringAsync("/fast")); // one slot is free, again and again
        }
        gate.Release.SetResult();
    }

    [Fact]
    public async Task CreateFailsForAnExistingNameAndAttachFailsForAMissingOne()
    {
        string name = "queue-" + Guid.NewGuid().ToString("N");
        await using var creator = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/", () => "creator"),
            o => o.RequestQueueName = name);

        var duplicate = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(ServerKind.HttpSysLite,
            static _ => { }, o => o.RequestQueueName = name));
        Assert.Contains("already exists", duplicate.Message);
        Assert.Contains(name, duplicate.Message);

        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(ServerKind.HttpSysLite,
            static _ => { }, o =>
            {
                o.RequestQueueName = "no-such-" + name;
                o.RequestQueueMode = RequestQueueMode.Attach;
            }));
        Assert.Contains("No request queue named", missing.Message);
    }

    [Fact]
    public async Task AttachedServersShareTheCreatorsQueueAndPrefixes()
    {
        string name = "shared-" + Guid.NewGuid().ToString("N");
        await using var creator = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/who", () => "creator"),
            o =>
            {
                o.RequestQueueName = name;
                o.RequestQueueMode = RequestQueueMode.CreateOrAttach;
            });
        var attachedApp = await StartAttachedAsync(name, app => app.MapGet("/who", () => "attached"));
        try
        {
            using var client = creator.CreateClient();
            var answers = new HashSet<string>();
            for (int i = 0; i < 8; i++)
            {
                answers.Add(await client.GetStringAsync("/who"));
            }
            Assert.Equal(new HashSet<string> { "creator", "attached" }, answers); // both consume, in turn

            // The attached server leaves; the creator keeps serving alone.
            await attachedApp.StopAsync();
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal("creator", await client.GetStringAsync("/who"));
            }
        }
        finally
        {
            await attachedApp.DisposeAsync();
        }
    }

    private static async Task<WebApplication> StartAttachedAsync(string name, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseHttpSysLite(o =>
        {
            o.RequestQueueName = name;
            o.RequestQueueMode = RequestQueueMode.Attach;
        });
        builder.Services.AddRouting();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }
}
