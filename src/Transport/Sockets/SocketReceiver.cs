using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The receives of one socket on .NET's socket engine, each awaited with its error as a value: .NET's
/// Socket.ReceiveAsync throws a SocketException when the peer resets (or when an abort disposes the
/// socket under a pending receive), and a client that resets between requests is an everyday end of a
/// connection, not something to throw and catch. One instance per connection, one receive at a time
/// (the receive loop's).
/// </summary>
internal sealed class SocketReceiver : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _source; // a mutable struct: never copied, never readonly

    public SocketReceiver()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Why the last receive that returned -1 failed.</summary>
    public SocketError Error => SocketError;

    /// <summary>Receives into <paramref name="buffer"/> (empty: waits for data, taking no buffer): the bytes read, 0 at the peer's FIN, -1 on an error (<see cref="Error"/>).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed before the receive started (an abort).</exception>
    public ValueTask<int> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        SetBuffer(buffer);
        _source.Reset();
        return socket.ReceiveAsync(this) ? new ValueTask<int>(this, _source.Version) : new ValueTask<int>(Result());
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _source.SetResult(Result());

    private int Result() => SocketError == SocketError.Success ? BytesTransferred : -1;

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
