using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Tests.Unit.Sockets;

/// <summary>The epoll transport's own recv(2) and send(2): each outcome as .NET's Socket would name it, over loopback.</summary>
public sealed class NonBlockingSocketTests : IAsyncLifetime
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private Socket _server = null!;

    public async Task InitializeAsync()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        await _client.ConnectAsync(_listener.LocalEndPoint!);
        _server = await _listener.AcceptAsync();
        if (OperatingSystem.IsLinux())
        {
            NonBlockingSocket.SetNonBlocking(_server);
        }
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        _client.Dispose();
        _listener.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void ReceiveSaysWouldBlockThenReadsThenSeesTheFin()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the epoll transport's calls: Linux only
        }
        var buffer = new byte[16];
        Assert.Equal(-1, NonBlockingSocket.Receive(_server, buffer, out var error));
        Assert.Equal(SocketError.WouldBlock, error);

        _client.Send("hello"u8);
        Assert.Equal(5, ReceiveSoon(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);

        _client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, ReceiveSoon(buffer));
    }

    [Fact]
    public void AResetIsConnectionResetAndSendingAfterItFails()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        Assert.Equal(3, NonBlockingSocket.Send(_server, "abc"u8, out var sendError));
        Assert.Equal(SocketError.Success, sendError);
        _client.LingerState = new LingerOption(true, 0);
        _client.Close(); // unread bytes and a zero linger: RST
        var buffer = new byte[16];
        Assert.Equal(-1, ReceiveSoon(buffer, out var error));
        Assert.Equal(SocketError.ConnectionReset, error);
        Assert.Equal(-1, NonBlockingSocket.Send(_server, "more"u8, out sendError));
        Assert.True(sendError is SocketError.Shutdown or SocketError.ConnectionReset, sendError.ToString());
    }

    [Fact]
    public async Task AcceptTakesTheBacklogsNextConnectionAndSaysWouldBlockWhenItIsEmpty()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        _listener.Blocking = false; // as the epoll listener runs it
        Assert.Null(NonBlockingSocket.Accept(_listener, out var error));
        Assert.Equal(SocketError.WouldBlock, error);

        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await second.ConnectAsync(_listener.LocalEndPoint!);
        Socket? accepted = null;
        for (int i = 0; i < 500 && (accepted = NonBlockingSocket.Accept(_listener, out error)) is null; i++)
        {
            Assert.Equal(SocketError.WouldBlock, error);
            Thread.Sleep(10);
        }
        using (accepted)
        {
            Assert.NotNull(accepted);
            Assert.Equal(second.LocalEndPoint, accepted.RemoteEndPoint);
            NonBlockingSocket.SetNonBlocking(accepted);
            Assert.Equal(-1, NonBlockingSocket.Receive(accepted, new byte[4], out var receiveError));
            Assert.Equal(SocketError.WouldBlock, receiveError);
        }
    }

    [Theory]
    [InlineData(11, SocketError.WouldBlock)]
    [InlineData(104, SocketError.ConnectionReset)]
    [InlineData(32, SocketError.Shutdown)]
    [InlineData(110, SocketError.TimedOut)]
    [InlineData(9, SocketError.OperationAborted)]
    [InlineData(24, SocketError.TooManyOpenSockets)]
    [InlineData(12345, SocketError.SocketError)]
    public void ErrnoMapsToTheSocketErrorDotNetReports(int errno, SocketError expected) =>
        Assert.Equal(expected, NonBlockingSocket.ToSocketError(errno));

    [Fact]
    public void ACallOnADisposedSocketThrowsObjectDisposed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        _server.Dispose();
        Assert.Throws<ObjectDisposedException>(() => NonBlockingSocket.Receive(_server, new byte[4], out _));
    }

    private int ReceiveSoon(byte[] buffer) => ReceiveSoon(buffer, out _);

    // Loopback delivers at once, but not synchronously with the peer's call: poll for up to 5 s.
    private int ReceiveSoon(byte[] buffer, out SocketError error)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        int received;
        while ((received = NonBlockingSocket.Receive(_server, buffer, out error)) < 0 && error == SocketError.WouldBlock && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }
        return received;
    }
}
