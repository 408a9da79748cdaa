using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The HTTP.sys timers on real sockets, on a fake clock (<see cref="FakeClock"/>): each test waits until
/// the connection armed its timer, moves the clock to just before the deadline to see that nothing
/// fires early, then past it (plus a heartbeat period, the most a timer may be late) to see it fire.
/// Nothing sleeps, so the bounds are only there to fail a broken server instead of hanging.
/// </summary>
public sealed class TimeoutTests
{
    private static readonly TimeSpan Bound = FakeClock.Bound;
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private static Task<TestServer> StartAsync(FakeClock clock, Action<HttpSysLiteOptions> options, RequestDelegate? app = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, a =>
        {
            a.MapGet("/plaintext", () => "Hello, World!");
            if (app is not null)
            {
                a.Run(app);
            }
        }, options, services: clock.Register);

    [Fact]
    public async Task HeaderWaitAnswers408AndClosesWhenAHeadIsNotCompleteInTime()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(30));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n");
        await clock.WaitForTimerAsync(TimerKind.HeaderWait);
        clock.Advance(TimeSpan.FromSeconds(29.5));
        Assert.Null(await connection.WaitForDataAsync(Quiet)); // not before its time
        clock.Advance(TimeSpan.FromSeconds(0.5) + FakeClock.Late);
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task HeaderWaitCountsFromTheFirstByteSoTricklingDoesNotExtendIt()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(20));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Slow: ");
        await clock.WaitForTimerAsync(TimerKind.HeaderWait);
        for (int i = 0; i < 19; i++)
        {
            // A byte a second: always "making progress", never finishing (slowloris).
            await connection.Socket.SendAsync("z"u8.ToArray(), SocketFlags.None);
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Null(await connection.WaitForDataAsync(Quiet));
        clock.Advance(TimeSpan.FromSeconds(1) + FakeClock.Late);
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task IdleConnectionClosesAKeepAliveConnectionAndASilentNewOne()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(60));
        await using var used = await server.ConnectAsync();
        await used.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
        var response = await used.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.False(response.HasConnectionClose);
        await using var silent = await server.ConnectAsync();
        await FakeClock.WaitUntilAsync(() => clock.Driver.Connections.Count(c => c.Transport.Timeouts.RequestTimer == TimerKind.IdleConnection) == 2,
            "both connections did not arm IdleConnection");
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(await used.WaitForDataAsync(Quiet));
        Assert.Null(await silent.WaitForDataAsync(TimeSpan.FromMilliseconds(1)));
        clock.Advance(TimeSpan.FromSeconds(1) + FakeClock.Late);
        // Closed without a response: nothing was asked.
        Assert.True(await used.IsClosedByServerAsync(Bound), "idle keep-alive connection not closed");
        Assert.True(await silent.IsClosedByServerAsync(Bound), "silent new connection not closed");
    }

    [Fact]
    public async Task AKeepAliveConnectionInUseIsNotClosedByIdleConnection()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(3));
        await using var connection = await server.ConnectAsync();
        for (int i = 0; i < 5; i++)
        {
            // Each 2 s wait is under the 3 s timeout, together they are over it: the connection must
            // survive them all, because the timer restarts with each request.
            await clock.WaitForTimerAsync(TimerKind.IdleConnection);
            clock.Advance(TimeSpan.FromSeconds(2));
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            var response = await connection.ReadResponseAsync(timeout: Bound);
            Assert.Equal(200, response.StatusCode);
        }
    }

    [Fact]
    public async Task EntityBodyFailsAStalledBodyReadWith408AndCloses()
    {
        var clock = new FakeClock();
        var seen = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(clock, o =>
        {
            o.Timeouts.EntityBody = TimeSpan.FromSeconds(30);
            o.MinRequestBodyBytesPerSecond = 0; // the gap timer alone (the rate has tests of its own)
        }, async context =>
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
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        await clock.WaitForTimerAsync(TimerKind.EntityBody);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await connection.WaitForDataAsync(Quiet));
        clock.Advance(TimeSpan.FromSeconds(1) + FakeClock.Late);
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(408, await seen.Task.WaitAsync(Bound));
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task DrainEntityBodyClosesWhenTheBodyTheAppLeftStalls()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.DrainEntityBody = TimeSpan.FromSeconds(30),
            context => context.Response.WriteAsync("not read"));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n0123456789");
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(200, response.StatusCode);
        await clock.WaitForTimerAsync(TimerKind.DrainEntityBody);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await connection.WaitForDataAsync(Quiet));
        clock.Advance(TimeSpan.FromSeconds(1) + FakeClock.Late);
        // The server skips the unread body to reuse the connection; the rest never comes, so it gives up.
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task DrainEntityBodyLetsABodyThatArrivesBeDrainedAndTheConnectionReused()
    {
        var clock = new FakeClock();
        await using var server = await StartAsync(clock, o => o.Timeouts.DrainEntityBody = TimeSpan.FromSeconds(5),
            context => context.Response.WriteAsync("not read"));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n0123456789");
        Assert.Equal(200, (await connection.ReadResponseAsync(timeout: Bound)).StatusCode);
        await clock.WaitForTimerAsync(TimerKind.DrainEntityBody);
        clock.Advance(TimeSpan.FromSeconds(4)); // under the timeout
        await connection.SendAsync("0123456789GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
        var second = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(200, second.StatusCode); // the same connection served the next request
        Assert.Equal("not read", second.BodyText);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task MinSendBytesPerSecondCutsOffAClientThatDoesNotRead(bool buffered, bool socketEngine)
    {
        var clock = new FakeClock(socketEngine);
        var aborted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(clock, o =>
        {
            o.Timeouts.MinSendBytesPerSecond = 1_000_000;
            o.EnableKernelResponseBuffering = buffered;
        }, async context =>
        {
            var chunk = new byte[64 * 1024];
            long written = 0;
            try
            {
                while (!context.RequestAborted.IsCancellationRequested && written < 1L << 30)
                {
                    await context.Response.Body.WriteAsync(chunk);
                    written += chunk.Length;
                }
            }
            finally
            {
                aborted.TrySetResult(written);
            }
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.EndPoint);
        await client.SendAsync("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray(), SocketFlags.None);
        // Never read: once the socket buffers fill, a send waits on the client and its deadline is armed.
        var connection = await clock.WaitForStalledSendAsync();
        clock.Advance(ConnectionSettings.SendGracePeriod - TimeSpan.FromSeconds(1));
        await Task.Delay(Quiet);
        Assert.False(connection.IsAborted, "cut off before the grace period");
        clock.Advance(TimeSpan.FromSeconds(2) + FakeClock.Late);
        long total = await aborted.Task.WaitAsync(Bound);
        Assert.True(total < 1L << 30, $"the app wrote {total} bytes to a client that read none");
        Assert.Equal(TimerKind.MinSendRate, connection.TimedOut);
    }
}
