using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// An idle epoll connection gives its pipes and loops up once silent for IdleContextRelease
/// (docs/design.md section 12), on real sockets and a fake clock. Each test sees the connection
/// suspended (the transport says so) before it does what a client or the server may do to an idle
/// connection: send the next request, stay silent past IdleConnection, close, reset, stop the server.
/// </summary>
public sealed class IdleSuspensionTests
{
    private static readonly TimeSpan Bound = FakeClock.Bound;
    private static readonly TimeSpan Release = Transport.Connections.HttpConnection.IdleContextRelease + FakeClock.Late;
    private const string Get = "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n";

    private static Task<TestServer> StartAsync(FakeClock clock, Action<HttpSysLiteOptions>? options = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, a => a.MapGet("/plaintext", () => "Hello, World!"), options, services: clock.Register);

    private static async Task<RawConnection> ServedAsync(TestServer server)
    {
        var connection = await server.ConnectAsync();
        await connection.SendAsync(Get);
        Assert.Equal(200, (await connection.ReadResponseAsync(timeout: Bound)).StatusCode);
        return connection;
    }

    private static int Suspended(FakeClock clock) => clock.Driver.Connections.Count(c => c.Transport.IsSuspended);

    private static async Task<bool> SuspendedWithinAsync(FakeClock clock, int count, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (Suspended(clock) != count)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(10);
        }
        return true;
    }

    /// <summary>Moves the clock past the release and waits until <paramref name="count"/> connections are suspended.</summary>
    private static async Task SuspendAsync(FakeClock clock, int count = 1)
    {
        await FakeClock.WaitUntilAsync(() => clock.Driver.Connections.Count(c => c.Transport.Timeouts.RequestTimer == Transport.Connections.TimerKind.IdleConnection) >= count,
            "the connections did not go idle");
        clock.Advance(Release);
        // A tick can find a loop between arming its timer and entering the idle read, or refused (its
        // last bytes' count not in yet); the next tick asks again, as every 250 ms in production. At
        // most four more ticks (1 s), which the IdleConnection test below leaves room for.
        for (int tick = 0; tick < 4 && !await SuspendedWithinAsync(clock, count, TimeSpan.FromSeconds(1)); tick++)
        {
            clock.Advance(Transport.Connections.Heartbeat.Period);
        }
        await FakeClock.WaitUntilAsync(() => Suspended(clock) == count, $"{count} connection(s) not suspended");
    }

    [Fact]
    public async Task ASuspendedConnectionServesItsNextRequestsAndIsSuspendedAgain()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock);
        await using var connection = await ServedAsync(server);
        for (int i = 0; i < 3; i++)
        {
            await SuspendAsync(clock);
            // Two pipelined requests wake it: both are answered, in order, on the same connection.
            await connection.SendAsync(Get + Get);
            for (int j = 0; j < 2; j++)
            {
                var response = await connection.ReadResponseAsync(timeout: Bound);
                Assert.Equal(200, response.StatusCode);
                Assert.Equal("Hello, World!", response.BodyText);
                Assert.False(response.HasConnectionClose);
            }
        }
        Assert.Equal(1, clock.Driver.ConnectionCount);
    }

    [Fact]
    public async Task ABusyConnectionIsNotSuspended()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock);
        await using var connection = await ServedAsync(server);
        for (int i = 0; i < 8; i++)
        {
            // Under the release between requests: the connection keeps its pipes.
            clock.Advance(TimeSpan.FromMilliseconds(500));
            await connection.SendAsync(Get);
            Assert.Equal(200, (await connection.ReadResponseAsync(timeout: Bound)).StatusCode);
            Assert.Equal(0, Suspended(clock));
        }
    }

    [Fact]
    public async Task AHeadCutShortIsNotSuspendedAndCompletesLater()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(30));
        await using var connection = await ServedAsync(server);
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHo");
        await clock.WaitForTimerAsync(Transport.Connections.TimerKind.HeaderWait);
        clock.Advance(Release + Release);
        Assert.Null(await connection.WaitForDataAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, Suspended(clock)); // a request has begun: its bytes are in the pipe
        await connection.SendAsync("st: a\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync(timeout: Bound)).StatusCode);
    }

    [Fact]
    public async Task IdleConnectionClosesASuspendedConnection()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(60));
        await using var used = await ServedAsync(server);
        await using var silent = await server.ConnectAsync(); // never sends: suspended from its accept
        await SuspendAsync(clock, count: 2);
        clock.Advance(TimeSpan.FromSeconds(57));
        Assert.Null(await used.WaitForDataAsync(TimeSpan.FromMilliseconds(200))); // not before its time
        Assert.Equal(2, Suspended(clock));
        clock.Advance(TimeSpan.FromSeconds(2) + FakeClock.Late);
        Assert.True(await used.IsClosedByServerAsync(Bound), "suspended keep-alive connection not closed");
        Assert.True(await silent.IsClosedByServerAsync(Bound), "suspended silent connection not closed");
        await used.DisposeAsync(); // the clients' FINs end the server's lingering close
        await silent.DisposeAsync();
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the closed connections were not removed");
    }

    [Fact]
    public async Task StoppingTheServerClosesSuspendedConnections()
    {
        var clock = new FakeClock();
        var server = await StartAsync(clock);
        await using var first = await ServedAsync(server);
        await using var second = await ServedAsync(server);
        await SuspendAsync(clock, count: 2);
        using (var timeout = new CancellationTokenSource(Bound))
        {
            await server.App.StopAsync(timeout.Token);
        }
        Assert.True(await first.IsClosedByServerAsync(Bound));
        Assert.True(await second.IsClosedByServerAsync(Bound));
        await first.DisposeAsync();
        await second.DisposeAsync();
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the closed connections were not removed");
        await server.DisposeAsync();
    }

    [Fact]
    public async Task AClientFinOrResetWhileSuspendedEndsTheConnectionAndFreesItsPlace()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o =>
        {
            o.MaxConnections = 2;
            o.Http503Verbosity = Microsoft.AspNetCore.Server.HttpSys.Http503VerbosityLevel.Limited;
        });
        var fin = await ServedAsync(server);
        var reset = await ServedAsync(server);
        await SuspendAsync(clock, count: 2);
        await using (var third = await server.ConnectAsync())
        {
            await third.SendAsync(Get);
            Assert.Equal(503, (await third.ReadResponseAsync(timeout: Bound)).StatusCode); // suspended ones still count
        }
        fin.Socket.Shutdown(SocketShutdown.Send);
        Assert.True(await fin.IsClosedByServerAsync(Bound));
        reset.Socket.LingerState = new LingerOption(true, 0);
        reset.Socket.Close();
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the ended connections were not removed");
        await fin.DisposeAsync();
        await reset.DisposeAsync();
        await using var admitted = await ServedAsync(server); // both places are free again
        await using var also = await ServedAsync(server);
    }

    [Fact]
    public async Task ARequestThatArrivesAsTheConnectionIsSuspendedIsAnswered()
    {
        // The heartbeat's suspension and the next request race: whichever wins, the request is answered.
        var clock = new FakeClock();
        await using var server = await StartAsync(clock);
        await using var connection = await ServedAsync(server);
        for (int i = 0; i < 60; i++)
        {
            await clock.WaitForTimerAsync(Transport.Connections.TimerKind.IdleConnection);
            clock.Advance(Transport.Connections.HttpConnection.IdleContextRelease - TimeSpan.FromMilliseconds(100));
            var send = Task.Run(async () =>
            {
                Thread.SpinWait(Random.Shared.Next(0, 20_000));
                await connection.SendAsync(Get);
            });
            clock.Advance(FakeClock.Late); // the tick that asks for the suspension
            await send;
            var response = await connection.ReadResponseAsync(timeout: Bound);
            Assert.Equal(200, response.StatusCode);
            Assert.Equal("Hello, World!", response.BodyText);
        }
        Assert.Equal(1, clock.Driver.ConnectionCount);
    }
}
