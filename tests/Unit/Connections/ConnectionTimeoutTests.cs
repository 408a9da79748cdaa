using Microsoft.AspNetCore.Server.HttpSys;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>
/// Every HTTP.sys timer of the connection loop, on a fake clock: each test waits (in real time) until
/// the connection has armed its timer, moves the clock to just before the deadline to see that nothing
/// fires early, then past it (plus a heartbeat period) to see it fire.
/// </summary>
public sealed class ConnectionTimeoutTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan Late = Heartbeat.Period + TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task HeaderWaitAnswers408WhenAHeadIsNotCompleteInTime()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"),
            o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(30));
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n");
        await server.WaitForTimerAsync(TimerKind.HeaderWait);
        await server.AdvancePastDeadlineAsync(client, TimeSpan.FromSeconds(30), "HeaderWait", early: TimeSpan.FromSeconds(0.5));
        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task HeaderWaitCountsFromTheFirstByteSoTricklingDoesNotExtendIt()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"),
            o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(10));
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\n");
        await server.WaitForTimerAsync(TimerKind.HeaderWait);
        for (int i = 0; i < 9; i++)
        {
            // A field a second: always "making progress", never finishing (slowloris).
            await client.SendAsync($"X-Slow-{i}: z\r\n");
            server.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.True(await client.StaysSilentAsync(Quiet), "HeaderWait fired early");
        server.Advance(TimeSpan.FromSeconds(1) + Late);
        Assert.Equal(408, (await client.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task IdleConnectionClosesASilentNewConnection()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"),
            o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(60));
        await using var client = server.Connect();
        await server.WaitForTimerAsync(TimerKind.IdleConnection);
        await server.AdvancePastDeadlineAsync(client, TimeSpan.FromSeconds(60), "IdleConnection");
        Assert.True(await client.IsClosedByServerAsync(), "closed without a response: nothing was asked");
    }

    [Fact]
    public async Task IdleConnectionClosesAKeepAliveConnectionAfterItsLastRequest()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"),
            o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(5));
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
        await server.WaitForTimerAsync(TimerKind.IdleConnection);
        server.Advance(TimeSpan.FromSeconds(5) + Late);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task IdleConnectionRestartsWithEachRequest()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"),
            o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(3));
        await using var client = server.Connect();
        for (int i = 0; i < 5; i++)
        {
            // Each 2 s gap is under the timeout, together they are over it.
            await server.WaitForTimerAsync(TimerKind.IdleConnection);
            server.Advance(TimeSpan.FromSeconds(2));
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
        }
    }

    [Fact]
    public async Task EntityBodyFailsAStalledBodyReadWith408()
    {
        var seen = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            try
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                seen.TrySetResult(0);
            }
            catch (BadHttpRequestException ex)
            {
                seen.TrySetResult(ex.StatusCode);
                throw;
            }
        }, o =>
        {
            o.Timeouts.EntityBody = TimeSpan.FromSeconds(20);
            o.MinRequestBodyBytesPerSecond = 0; // the gap timer alone (the rate has tests of its own)
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        await server.WaitForTimerAsync(TimerKind.EntityBody);
        await server.AdvancePastDeadlineAsync(client, TimeSpan.FromSeconds(20), "EntityBody");
        Assert.Equal(408, await seen.Task.WaitAsync(InMemoryClient.DefaultTimeout));
        var response = await client.ReadResponseAsync();
        Assert.Equal(408, response.StatusCode);
        Assert.True(response.HasConnectionClose);
    }

    [Fact]
    public async Task EntityBodyRestartsWhenBytesArrive()
    {
        int read = 0;
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            var buffer = new byte[16];
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref read, n);
            }
            await context.Response.WriteAsync("read it all");
        }, o =>
        {
            o.Timeouts.EntityBody = TimeSpan.FromSeconds(4);
            o.MinRequestBodyBytesPerSecond = 0; // the gap timer alone
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
        int sent = 0;
        foreach (string piece in new[] { "a", "b", "c" })
        {
            // The read of the previous piece is done and the next one waits (with its timer re-armed).
            await InMemoryServer.WaitUntilAsync(() => Volatile.Read(ref read) == sent, "the app did not read what was sent");
            await server.WaitForTimerAsync(TimerKind.EntityBody);
            server.Advance(TimeSpan.FromSeconds(3)); // under the timeout each time, over it in all
            await client.SendAsync(piece);
            sent++;
        }
        Assert.Equal("read it all", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task DrainEntityBodyClosesWhenTheBodyTheAppLeftStalls()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("not read"),
            o => o.Timeouts.DrainEntityBody = TimeSpan.FromSeconds(10));
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n0123456789");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        await server.WaitForTimerAsync(TimerKind.DrainEntityBody);
        await server.AdvancePastDeadlineAsync(client, TimeSpan.FromSeconds(10), "DrainEntityBody");
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task MinSendBytesPerSecondCutsOffAClientThatDoesNotRead()
    {
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            var chunk = new byte[16 * 1024];
            for (int i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        var connection = await server.SingleConnectionAsync();
        // The client reads nothing: the send that fills its buffer waits, and its deadline is armed.
        await InMemoryServer.WaitUntilAsync(() => connection.Transport.Timeouts.IsSendStalled(long.MaxValue - 1), "no send waited on the client");
        // Any blocked send gets the grace period; this one (64 KiB or more) gets what 150 B/s allows for its size.
        server.Advance(ConnectionSettingsGrace() + TimeSpan.FromSeconds(1));
        await Task.Delay(Quiet);
        Assert.False(connection.IsAborted, "MinSendRate fired before 64 KiB could go out at 150 B/s");
        server.Advance(TimeSpan.FromSeconds(65536 / 150 * 2));
        await InMemoryServer.WaitUntilAsync(() => connection.IsAborted, "the stalled send was not cut off");
        Assert.Equal(TimerKind.MinSendRate, connection.TimedOut);
    }

    [Fact]
    public async Task AClosingConnectionLingersForTheClientsFinThenGivesUp()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("bye"));
        await using var client = server.Connect();
        // Unread bytes behind the request: closing at once could reset the response, so the server lingers.
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /more HTTP/1.1\r\n");
        Assert.Equal("bye", (await client.ReadResponseAsync()).BodyText);
        Assert.True(await client.IsClosedByServerAsync(), "no FIN after the response");
        var connection = await server.SingleConnectionAsync();
        await InMemoryServer.WaitUntilAsync(() => connection.Transport.Timeouts.IsLingerExpired(long.MaxValue - 1), "the close did not linger");
        server.Advance(TransportConnection.LingerTimeout - TimeSpan.FromSeconds(1));
        await Task.Delay(Quiet);
        Assert.Equal(1, server.Driver.ConnectionCount);
        server.Advance(TimeSpan.FromSeconds(1) + Late);
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the linger never ended");
        // The response went out whole before our FIN: giving up on the client's FIN must not reset it.
        Assert.False(client.WasReset, "the linger's end reset a whole response");
    }

    [Fact]
    public async Task RequestQueueTimeoutAnswers503ToARequestThatWaitedTooLong()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/block")
            {
                await release.Task;
            }
            await context.Response.WriteAsync("done");
        }, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Limited;
            o.Timeouts.RequestQueue = TimeSpan.FromSeconds(30);
        });
        await using var busy = server.Connect();
        await busy.SendAsync("GET /block HTTP/1.1\r\nHost: a\r\n\r\n");
        await InMemoryServer.WaitUntilAsync(() => ActiveRequests(server) == 1, "the first request did not start");
        await using var waiting = server.Connect();
        await waiting.SendAsync("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
        await InMemoryServer.WaitUntilAsync(() => Queue(server).WaitingCount == 1, "the second request did not wait");
        await server.AdvancePastDeadlineAsync(waiting, TimeSpan.FromSeconds(30), "the queue");
        var response = await waiting.ReadResponseAsync();
        Assert.Equal(503, response.StatusCode);
        release.SetResult();
        Assert.Equal("done", (await busy.ReadResponseAsync()).BodyText);
    }

    private static TimeSpan ConnectionSettingsGrace() => Transport.ConnectionSettings.SendGracePeriod;

    private static int ActiveRequests(InMemoryServer server) => server.Driver.Connections.Count(c => c.ActiveGroup is not null);

    private static Transport.Routing.RequestQueue Queue(InMemoryServer server) => server.Driver.Connections.First(c => c.ActiveGroup is not null).ActiveGroup!.Queue;
}
