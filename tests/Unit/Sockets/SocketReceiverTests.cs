using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Tests.Unit.Sockets;

/// <summary>
/// The receives and sends of .NET's socket engine as the TLS path uses them: an idle connection must
/// hold no buffer through them, over real loopback sockets.
/// </summary>
public sealed class SocketReceiverTests : IAsyncLifetime
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
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        _client.Dispose();
        _listener.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AFinishedReceiveLetsGoOfItsBuffer()
    {
        using var receiver = new SocketReceiver();
        _client.Send("hello"u8);
        var buffer = new byte[64];
        Assert.Equal(5, await receiver.ReceiveAsync(_server, buffer));
        Assert.True(receiver.MemoryBuffer.IsEmpty);

        // Completed asynchronously too.
        var pending = receiver.ReceiveAsync(_server, buffer);
        _client.Send("again"u8);
        Assert.Equal(5, await pending);
        Assert.True(receiver.MemoryBuffer.IsEmpty);
    }

    [Fact]
    public async Task AFinishedSendLetsGoOfItsBuffer()
    {
        using var sender = new SocketSender();
        Assert.Equal(5, await sender.SendAsync(_server, "hello"u8.ToArray()));
        Assert.True(sender.MemoryBuffer.IsEmpty);
        var buffer = new byte[5];
        Assert.Equal(5, await _client.ReceiveAsync(buffer));
    }

    [Fact]
    public async Task AWaitEndsOnlyWhenTheSocketIsReadable()
    {
        // The stale wake-up: bytes arrive and are taken at once by synchronous receives, and the
        // readiness event they raised reaches the next zero-byte wait. Repeated, as it is a race.
        using var receiver = new SocketReceiver();
        var buffer = new byte[64];
        for (int i = 0; i < 20; i++)
        {
            _client.Send("GET"u8);
            Assert.Equal(0, await receiver.WaitAsync(_server));
            Assert.Equal(3, await receiver.ReceiveAsync(_server, buffer));
            var wait = receiver.WaitAsync(_server);
            await Task.Delay(20);
            Assert.False(wait.IsCompleted, $"round {i}: the wait ended with nothing to read");
            _client.Send("x"u8);
            Assert.Equal(0, await wait);
            Assert.Equal(1, await receiver.ReceiveAsync(_server, buffer));
        }
    }

    [Fact]
    public async Task AWaitEndsAtTheClientsFin()
    {
        using var receiver = new SocketReceiver();
        var wait = receiver.WaitAsync(_server);
        _client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await wait);
        Assert.Equal(0, await receiver.ReceiveAsync(_server, new byte[8]));
    }
}
