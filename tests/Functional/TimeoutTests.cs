using System.Diagnostics;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection
{
}

/// <summary>
/// The HTTP.sys timers with short values. They run off one heartbeat (a quarter second), so a timer
/// fires within a period of its deadline: the bounds below are generous on both sides.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class TimeoutTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private static Task<TestServer> StartAsync(Action<HttpSysLiteOptions> options, RequestDelegate? app = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, a =>
        {
            a.MapGet("/plaintext", () => "Hello, World!");
            if (app is not null)
            {
                a.Run(app);
            }
        }, options);

    [Fact]
    public async Task HeaderWaitAnswers408AndClosesWhenAHeadIsNotCompleteInTime()
    {
        await using var server = await StartAsync(o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(1));
        await using var connection = await server.ConnectAsync();
        var clock = Stopwatch.StartNew();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n");
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"fired after {clock.Elapsed}");
    }

    [Fact]
    public async Task HeaderWaitCountsFromTheFirstByteSoTricklingDoesNotExtendIt()
    {
        await using var server = await StartAsync(o => o.Timeouts.HeaderWait = TimeSpan.FromSeconds(2));
        await using var connection = await server.ConnectAsync();
        var clock = Stopwatch.StartNew();
        var trickle = Task.Run(async () =>
        {
            // A byte every 200 ms: always "making progress", never finishing (slowloris).
            foreach (char c in "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Slow: " + new string('z', 400))
            {
                try
                {
                    await connection.Socket.SendAsync(new[] { (byte)c }, SocketFlags.None);
                }
                catch (SocketException)
                {
                    return;
                }
                await Task.Delay(200);
            }
        });
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(await connection.IsClosedByServerAsync(Bound));
        await trickle;
    }

    [Fact]
    public async Task IdleConnectionClosesAKeepAliveConnectionAndASilentNewOne()
    {
        await using var server = await StartAsync(o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(1));
        await using var used = await server.ConnectAsync();
        await used.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
        var response = await used.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.False(response.HasConnectionClose);
        await using var silent = await server.ConnectAsync();
        // Closed without a response: nothing was asked.
        Assert.True(await used.IsClosedByServerAsync(Bound), "idle keep-alive connection not closed");
        Assert.True(await silent.IsClosedByServerAsync(Bound), "silent new connection not closed");
    }

    [Fact]
    public async Task AKeepAliveConnectionInUseIsNotClosedByIdleConnection()
    {
        await using var server = await StartAsync(o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(3));
        await using var connection = await server.ConnectAsync();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++)
        {
            // Each 1 s wait is well under the 3 s timeout, together they are over it: the connection must
            // survive them all, because the timer restarts with each request.
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response;
            try
            {
                response = await connection.ReadResponseAsync();
            }
            catch (IOException ex)
            {
                throw new IOException($"request {i} at {clock.ElapsedMilliseconds} ms", ex);
            }
            Assert.Equal(200, response.StatusCode);
            await Task.Delay(1000);
        }
    }

    [Fact]
    public async Task EntityBodyFailsAStalledBodyReadWith408AndCloses()
    {
        var seen = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(o => o.Timeouts.EntityBody = TimeSpan.FromSeconds(1), async context =>
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
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(408, await seen.Task.WaitAsync(Bound));
        Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task DrainEntityBodyClosesWhenTheBodyTheAppLeftStalls()
    {
        await using var server = await StartAsync(o => o.Timeouts.DrainEntityBody = TimeSpan.FromSeconds(1),
            context => context.Response.WriteAsync("not read"));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n0123456789");
        var response = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(200, response.StatusCode);
        // The server skips the unread body to reuse the connection; the rest never comes, so it gives up.
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task DrainEntityBodyLetsABodyThatArrivesBeDrainedAndTheConnectionReused()
    {
        await using var server = await StartAsync(o => o.Timeouts.DrainEntityBody = TimeSpan.FromSeconds(5),
            context => context.Response.WriteAsync("not read"));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n0123456789");
        Assert.Equal(200, (await connection.ReadResponseAsync(timeout: Bound)).StatusCode);
        await connection.SendAsync("0123456789GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
        var second = await connection.ReadResponseAsync(timeout: Bound);
        Assert.Equal(200, second.StatusCode); // the same connection served the next request
        Assert.Equal("not read", second.BodyText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MinSendBytesPerSecondCutsOffAClientThatDoesNotRead(bool buffered)
    {
        var aborted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(o =>
        {
            o.Timeouts.MinSendBytesPerSecond = 1_000_000;
            o.EnableKernelResponseBuffering = buffered;
        }, async context =>
        {
            var chunk = new byte[64 * 1024];
            long written = 0;
            while (!context.RequestAborted.IsCancellationRequested && written < 1L << 30)
            {
                await context.Response.Body.WriteAsync(chunk);
                written += chunk.Length;
            }
            aborted.TrySetResult(written);
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.EndPoint);
        await client.SendAsync("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray(), SocketFlags.None);
        // Never read: after the socket buffers fill, each send waits on the client past the allowance.
        long total = await aborted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(total < 1L << 30, $"the app wrote {total} bytes to a client that read none");
    }

    [Fact]
    public async Task OneHeartbeatServesEveryConnectionInsteadOfATimerEach()
    {
        await using var server = await StartAsync(o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(30));
        await using (var warm = await server.ConnectAsync())
        {
            await warm.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            await warm.ReadResponseAsync();
        }
        long before = Timer.ActiveCount;
        var connections = new List<RawConnection>();
        for (int i = 0; i < 300; i++)
        {
            var connection = await server.ConnectAsync();
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            await connection.ReadResponseAsync();
            connections.Add(connection); // each now runs its IdleConnection timer
        }
        long after = Timer.ActiveCount;
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
        Assert.True(after - before < 30, $"{after - before} timers for 300 connections waiting on IdleConnection");
    }
}
