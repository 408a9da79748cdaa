using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// A silent upgraded connection (a WebSocket) gives its pipes and send loop up as an idle keep-alive
/// connection does (docs/design.md section 12), on real sockets and a fake clock. Each test sees the
/// connection suspended, then does what either side may do to a silent WebSocket: the client sends,
/// the app sends, the client closes or resets, the app returns or aborts, the server stops.
/// </summary>
public sealed class UpgradedSuspensionTests
{
    private static readonly TimeSpan Bound = FakeClock.Bound;

    /// <summary>What the app does besides echoing, once the test says so.</summary>
    private sealed class AppSide
    {
        public TaskCompletionSource<string> Act { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<Exception?> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static Task<TestServer> StartAsync(FakeClock clock, AppSide side) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
            app.Map("/ws", async context =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                Exception? failure = null;
                try
                {
                    await RunAsync(context, socket, side);
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
                side.Ended.TrySetResult(failure);
            });
        }, services: clock.Register);

    /// <summary>Echoes each message; at the test's word sends a message, returns, or aborts the connection.</summary>
    private static async Task RunAsync(HttpContext context, WebSocket socket, AppSide side)
    {
        var buffer = new byte[1024];
        var receive = socket.ReceiveAsync(buffer, CancellationToken.None);
        while (true)
        {
            var done = await Task.WhenAny(receive, side.Act.Task);
            if (done == side.Act.Task)
            {
                string act = side.Act.Task.Result;
                if (act == "return")
                {
                    return;
                }
                if (act == "abort")
                {
                    context.Abort();
                    return;
                }
                await socket.SendAsync(Encoding.UTF8.GetBytes(act), WebSocketMessageType.Text, true, CancellationToken.None);
                side.Act = new(TaskCreationOptions.RunContinuationsAsynchronously);
                continue;
            }
            var result = await receive;
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
            receive = socket.ReceiveAsync(buffer, CancellationToken.None);
        }
    }

    private static int Suspended(FakeClock clock) => clock.Driver.Connections.Count(c => c.Transport.IsSuspended);

    /// <summary>Moves the clock past the release, tick by tick as the heartbeat would run, until the connection is suspended.</summary>
    private static async Task SuspendAsync(FakeClock clock, int count = 1)
    {
        clock.Advance(Transport.Connections.HttpConnection.IdleContextRelease + FakeClock.Late);
        // The stream's read may not have begun its wait at the first tick (the app's receive is on its
        // way), or the last echo's bytes not counted as sent yet: a tick then refuses, and the next asks again.
        for (int tick = 0; tick < 40 && Suspended(clock) != count; tick++)
        {
            await Task.Delay(50);
            clock.Advance(Transport.Connections.Heartbeat.Period);
        }
        await FakeClock.WaitUntilAsync(() => Suspended(clock) == count, $"{count} upgraded connection(s) not suspended");
    }

    private static async Task<ClientWebSocket> ConnectAsync(TestServer server)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // silent means silent
        using var timeout = new CancellationTokenSource(Bound);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/ws"), timeout.Token);
        return socket;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[1024];
        var text = new StringBuilder();
        while (true)
        {
            // The app echoes a long message in pieces of its buffer's size, each a frame of one message.
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            if (result.EndOfMessage)
            {
                return text.ToString();
            }
        }
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(Bound);
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
        return await ReceiveTextAsync(socket);
    }

    /// <summary>A server, a WebSocket that echoed once, and the connection suspended since.</summary>
    private sealed record Session(FakeClock Clock, AppSide Side, TestServer Server, ClientWebSocket Socket) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Socket.Dispose();
            await Server.DisposeAsync();
        }
    }

    private static async Task<Session> SuspendedSessionAsync()
    {
        var clock = new FakeClock();
        var side = new AppSide();
        var server = await StartAsync(clock, side);
        var socket = await ConnectAsync(server);
        Assert.Equal("first", await EchoAsync(socket, "first"));
        await SuspendAsync(clock);
        return new Session(clock, side, server, socket);
    }

    [Fact]
    public async Task ASilentWebSocketIsSuspendedAndEchoesWhenTheClientSpeaks()
    {
        var clock = new FakeClock();
        var side = new AppSide();
        await using var server = await StartAsync(clock, side);
        using var socket = await ConnectAsync(server);
        Assert.Equal("first", await EchoAsync(socket, "first"));
        for (int i = 0; i < 3; i++)
        {
            await SuspendAsync(clock);
            // A message larger than a pool block, so the resumed read takes more than one receive.
            string message = new string((char)('a' + i), 6000);
            Assert.Equal(message, await EchoAsync(socket, message));
            Assert.Equal("again", await EchoAsync(socket, "again"));
        }
        Assert.Equal(1, clock.Driver.ConnectionCount);
    }

    [Fact]
    public async Task TheAppSendsToASuspendedWebSocket()
    {
        await using var session = await SuspendedSessionAsync();
        var (clock, side, socket) = (session.Clock, session.Side, session.Socket);
        side.Act.SetResult("pushed while suspended");
        Assert.Equal("pushed while suspended", await ReceiveTextAsync(socket));
        // The read the app had pending goes on across the resume: the connection still echoes.
        Assert.Equal("after", await EchoAsync(socket, "after"));
        await SuspendAsync(clock);
        Assert.Equal("after a second suspension", await EchoAsync(socket, "after a second suspension"));
    }

    [Fact]
    public async Task AClientCloseWhileSuspendedIsAnsweredAndTheConnectionEnds()
    {
        await using var session = await SuspendedSessionAsync();
        var (clock, side, socket) = (session.Clock, session.Side, session.Socket);
        using var timeout = new CancellationTokenSource(Bound);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal("bye", socket.CloseStatusDescription);
        Assert.Null(await side.Ended.Task.WaitAsync(Bound));
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the connection did not end");
    }

    [Theory]
    [InlineData("return")]
    [InlineData("abort")]
    public async Task TheAppEndingASuspendedWebSocketsRequestEndsTheConnection(string act)
    {
        await using var session = await SuspendedSessionAsync();
        var (clock, side, socket) = (session.Clock, session.Side, session.Socket);
        side.Act.SetResult(act);
        Assert.Null(await side.Ended.Task.WaitAsync(Bound));
        // The client sees its connection end: no close frame came, so its receive fails.
        using var timeout = new CancellationTokenSource(Bound);
        await Assert.ThrowsAnyAsync<WebSocketException>(async () => await socket.ReceiveAsync(new byte[16], timeout.Token));
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the connection did not end");
    }

    [Fact]
    public async Task AClientResetWhileSuspendedFailsTheAppsReceiveAndFreesTheConnection()
    {
        var clock = new FakeClock();
        var side = new AppSide();
        await using var server = await StartAsync(clock, side);
        // A raw upgrade, so the test can reset the socket under the WebSocket.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.EndPoint);
        await client.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = new byte[4096];
        int read = 0;
        while (!Encoding.ASCII.GetString(head, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int n = await client.ReceiveAsync(head.AsMemory(read)).AsTask().WaitAsync(Bound);
            Assert.NotEqual(0, n);
            read += n;
        }
        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(head, 0, read), StringComparison.Ordinal);
        await SuspendAsync(clock);
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        Assert.NotNull(await side.Ended.Task.WaitAsync(Bound)); // the app's receive failed with the reset
        await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the connection did not end");
    }

    [Fact]
    public async Task StoppingTheServerEndsSuspendedWebSockets()
    {
        var clock = new FakeClock();
        var side = new AppSide();
        var server = await StartAsync(clock, side);
        try
        {
            using var first = await ConnectAsync(server);
            Assert.Equal("one", await EchoAsync(first, "one"));
            await SuspendAsync(clock);
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var stop = server.App.StopAsync(stopping.Token);
            // The app holds its request: the server's shutdown timeout aborts it, which resumes the connection.
            await stop.WaitAsync(Bound);
            await FakeClock.WaitUntilAsync(() => clock.Driver.ConnectionCount == 0, "the connection did not end");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
