using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The sends of one socket on .NET's socket engine, awaited with the error as a value, that let go of
/// their buffer when they finish. Socket.SendAsync(ReadOnlyMemory) goes through an event-args object
/// the socket caches, which keeps a reference to the last buffer it sent: over TLS that is SslStream's
/// encrypted record, rented from the shared pool and returned at once, so each idle connection kept
/// one returned array alive. One instance per connection, one send at a time (the send loop's).
/// </summary>
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _source; // a mutable struct: never copied, never readonly

    public SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Why the last send that returned -1 failed.</summary>
    public SocketError Error => SocketError;

    /// <summary>Sends <paramref name="buffer"/>: the bytes sent, or -1 on an error (<see cref="Error"/>).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed before the send started (an abort).</exception>
    public ValueTask<int> SendAsync(Socket socket, ReadOnlyMemory<byte> buffer)
    {
        // The memory is only read: SocketAsyncEventArgs takes a writable Memory for both directions.
        SetBuffer(MemoryMarshal.AsMemory(buffer));
        _source.Reset();
        return socket.SendAsync(this) ? new ValueTask<int>(this, _source.Version) : new ValueTask<int>(Result());
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _source.SetResult(Result());

    private int Result()
    {
        int result = SocketError == SocketError.Success ? BytesTransferred : -1;
        SetBuffer(Memory<byte>.Empty);
        return result;
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
