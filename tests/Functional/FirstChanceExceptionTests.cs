using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Normal traffic makes the server throw nothing: keep-alive requests of every sample endpoint,
/// WebSocket sessions opened, echoed and closed, and clients that go away between requests. An exception caught inside the server still costs its throw and fills a log turned up to
/// Debug; under a mixed soak HttpSysLite threw and caught about four a second (one per five WebSocket
/// closes) where Kestrel threw none. Counted as first-chance exceptions on server frames
/// (<see cref="ServerExceptionCounter"/>); alone in the process, since the count is process-wide.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class FirstChanceExceptionTests
{
    private const int KeepAliveRequests = 1000;
    private const int WebSocketSessions = 200;
    private const int Disconnects = 100;

    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.Kestrel)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task NormalTrafficThrowsNothingInTheServer(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await RunTrafficAsync(server, KeepAliveRequests / 100, WebSocketSessions / 20, Disconnects / 10, resets: false); // first-time paths run uncounted
        await WaitForConnectionsToEndAsync(server);

        using var counter = new ServerExceptionCounter();
        await RunTrafficAsync(server, KeepAliveRequests, WebSocketSessions, Disconnects, resets: false);
        await WaitForConnectionsToEndAsync(server);
        AssertNone(counter);
    }

    /// <summary>
    /// Clients that reset between requests (an RST, as a client that closes with unread input sends)
    /// cost no exception either. HttpSysLite only: Kestrel throws and catches two
    /// ConnectionResetExceptions per reset.
    /// </summary>
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task ClientsThatResetBetweenRequestsThrowNothingInTheServer(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await RunTrafficAsync(server, 0, 0, Disconnects / 10, resets: true);
        await WaitForConnectionsToEndAsync(server);

        using var counter = new ServerExceptionCounter();
        await RunTrafficAsync(server, 0, 0, Disconnects, resets: true);
        await WaitForConnectionsToEndAsync(server);
        AssertNone(counter);
    }

    private static void AssertNone(ServerExceptionCounter counter) =>
        Assert.True(counter.Count == 0,
            $"{counter.Count} first-chance exceptions in the server:\n{counter.Summary()}\nthe first:\n" + string.Join("\n----\n", counter.Seen.Take(3)));

    private static async Task RunTrafficAsync(TestServer server, int requests, int sessions, int disconnects, bool resets)
    {
        // Four keep-alive connections share the requests: every endpoint, bodies both ways.
        var keepAlive = Enumerable.Range(0, 4).Select(async lane =>
        {
            await using var connection = await server.ConnectAsync();
            for (int i = lane; i < requests; i += 4)
            {
                switch (i % 5)
                {
                    case 0:
                        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        break;
                    case 1:
                        await connection.SendAsync("GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        break;
                    case 2:
                        await connection.SendAsync("GET /cached HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        break;
                    case 3:
                        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world");
                        break;
                    default:
                        await connection.SendAsync("GET /bytes/40000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        break;
                }
                Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            }
        });
        await Task.WhenAll(keepAlive);

        // WebSocket sessions, two at a time: open, echo, close by the handshake.
        var webSockets = Enumerable.Range(0, 2).Select(async lane =>
        {
            var uri = new Uri($"ws://127.0.0.1:{server.Port}/ws");
            for (int i = lane; i < sessions; i += 2)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var socket = new ClientWebSocket();
                await socket.ConnectAsync(uri, timeout.Token);
                await socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, true, timeout.Token);
                var buffer = new byte[64];
                var received = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, received.Count));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
        });
        await Task.WhenAll(webSockets);

        // Clients that leave between requests, after a response or before asking anything: by FIN, or by reset.
        for (int i = 0; i < disconnects; i++)
        {
            var connection = await server.ConnectAsync();
            if (i % 2 == 0)
            {
                await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
                await connection.ReadResponseAsync();
            }
            if (resets)
            {
                connection.Socket.LingerState = new LingerOption(true, 0);
            }
            await connection.DisposeAsync();
        }
    }

    /// <summary>Every connection's close has run (HttpSysLite counts them; Kestrel's are given the linger's 2 s and more).</summary>
    private static async Task WaitForConnectionsToEndAsync(TestServer server)
    {
        if (server.Kind == ServerKind.Kestrel)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            return;
        }
        var driver = server.App.Services.GetService<HttpDriver>() ?? HttpDriver.Shared;
        await FakeClock.WaitUntilAsync(() => driver.ConnectionCount == 0, "the server's connections did not end");
    }
}
