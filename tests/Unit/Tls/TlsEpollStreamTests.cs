using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Buffers;
using HttpSysLite.Transport.Sockets;
using HttpSysLite.Transport.Tls;

namespace HttpSysLite.Tests.Unit.Tls;

/// <summary>The stream under SslStream on an epoll loop, over a real loopback connection (Linux only).</summary>
public sealed class TlsEpollStreamTests : IAsyncLifetime
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private Socket _server = null!;
    private TlsEpollStream? _stream;

    public async Task InitializeAsync()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        await _client.ConnectAsync(_listener.LocalEndPoint!);
        _server = await _listener.AcceptAsync();
        if (EpollInterop.IsSupported)
        {
            _stream = new TlsEpollStream(_server, EpollLoop.Next()!);
            _stream.Start();
        }
    }

    public Task DisposeAsync()
    {
        _stream?.Dispose();
        _server.Dispose();
        _client.Dispose();
        _listener.Dispose();
        return Task.CompletedTask;
    }

    private static Task<T> Bounded<T>(ValueTask<T> task) => task.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task AZeroByteReadWaitsWithNothingRentedAndTheBytesFollowFromTheReadAhead()
    {
        if (_stream is null)
        {
            return; // epoll is Linux's
        }
        var wait = _stream.ReadAsync(Memory<byte>.Empty);
        Assert.False(wait.IsCompleted);
        await _client.SendAsync("hello"u8.ToArray(), SocketFlags.None);
        Assert.Equal(0, await Bounded(wait));

        var buffer = new byte[3];
        Assert.Equal(3, await Bounded(_stream.ReadAsync(buffer)));
        Assert.Equal("hel"u8.ToArray(), buffer);
        Assert.Equal(2, await Bounded(_stream.ReadAsync(buffer)));
        Assert.Equal("lo"u8.ToArray(), buffer[..2]);
        // The read-ahead block went back once drained: a silent connection holds none. (Asked of the
        // stream, not the shared pool, which the tests running beside this one rent from too.)
        Assert.False(_stream.HoldsReadAhead);
        Assert.False(_stream.ReadAsync(Memory<byte>.Empty).IsCompleted);
    }

    [Fact]
    public async Task AFinThatCameWithTheDataIsSeenAfterIt()
    {
        if (_stream is null)
        {
            return;
        }
        await _client.SendAsync("last"u8.ToArray(), SocketFlags.None);
        _client.Shutdown(SocketShutdown.Send);
        await Task.Delay(100); // both are in the socket before the first read: one edge for the two
        var buffer = new byte[64];
        Assert.Equal(4, await Bounded(_stream.ReadAsync(buffer)));
        Assert.Equal(0, await Bounded(_stream.ReadAsync(buffer)));
        Assert.False(_stream.WasReset);
    }

    [Fact]
    public async Task AResetEndsAReadAsAFinThatSaysSo()
    {
        if (_stream is null)
        {
            return;
        }
        var read = _stream.ReadAsync(new byte[64]);
        _client.LingerState = new LingerOption(true, 0);
        _client.Close();
        Assert.Equal(0, await Bounded(read));
        Assert.True(_stream.WasReset);
    }

    [Fact]
    public async Task ACancelledWaitConsumesNothing()
    {
        if (_stream is null)
        {
            return;
        }
        using var cancel = new CancellationTokenSource();
        var wait = _stream.ReadAsync(Memory<byte>.Empty, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(wait));
        await _client.SendAsync("after"u8.ToArray(), SocketFlags.None);
        var buffer = new byte[16];
        Assert.Equal(5, await Bounded(_stream.ReadAsync(buffer)));
        Assert.Equal("after"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task DetachingEndsAPendingWaitAsAReset()
    {
        if (_stream is null)
        {
            return;
        }
        var wait = _stream.ReadAsync(Memory<byte>.Empty);
        Assert.False(wait.IsCompleted);
        _stream.Detach();
        Assert.Equal(0, await Bounded(wait));
        Assert.True(_stream.WasReset);
    }

    [Fact]
    public async Task AWriteTheSocketCannotTakeWaitsForTheClientToRead()
    {
        if (_stream is null)
        {
            return;
        }
        var payload = new byte[32 * 1024 * 1024];
        Random.Shared.NextBytes(payload);
        var write = _stream.WriteAsync(payload).AsTask();
        await Task.Delay(100);
        Assert.False(write.IsCompleted); // 32 MiB do not fit in loopback's buffers
        var received = new byte[payload.Length];
        int total = 0;
        while (total < payload.Length)
        {
            total += await _client.ReceiveAsync(received.AsMemory(total), SocketFlags.None);
        }
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(payload, received);
    }
}
