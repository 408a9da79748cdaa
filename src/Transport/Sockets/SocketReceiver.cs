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
/// <remarks>
/// Two things keep an idle connection from holding a buffer through this object:
/// <list type="bullet">
/// <item>A finished receive lets go of its buffer. An event-args object otherwise keeps a reference
/// to the last buffer it was given, and the buffers given here are other owners' (SslStream's read
/// buffer, rented from the shared pool and returned when empty): kept reachable, a returned array
/// stays in memory after the pool has dropped it, one per idle connection.</item>
/// <item>A zero-byte receive (<see cref="WaitAsync"/>) completes only when the socket is readable.
/// .NET completes a pending zero-byte receive on any readiness event, including a stale one for bytes
/// an earlier synchronous receive already took; the caller then receives for real, with a buffer,
/// and waits in that receive while idle. Measured at 2,000 idle TLS connections: 62% of them held
/// SslStream's 32 KiB read buffer that way.</item>
/// </list>
/// </remarks>
internal sealed class SocketReceiver : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _source; // a mutable struct: never copied, never readonly
    private Socket? _waitingOn; // set while a zero-byte wait is pending; only the receive loop touches it

    public SocketReceiver()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Why the last receive that returned -1 failed.</summary>
    public SocketError Error => SocketError;

    /// <summary>Receives into <paramref name="buffer"/> (empty: as <see cref="WaitAsync"/>): the bytes read, 0 at the peer's FIN, -1 on an error (<see cref="Error"/>).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed before the receive started (an abort).</exception>
    public ValueTask<int> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return WaitAsync(socket);
        }
        _waitingOn = null;
        SetBuffer(buffer);
        _source.Reset();
        return socket.ReceiveAsync(this) ? new ValueTask<int>(this, _source.Version) : new ValueTask<int>(Result());
    }

    /// <summary>
    /// Waits until the socket is readable (bytes, the peer's FIN or an error), taking no buffer: 0 when
    /// it is, -1 on an error (<see cref="Error"/>).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed before the wait started (an abort).</exception>
    public ValueTask<int> WaitAsync(Socket socket)
    {
        _waitingOn = socket;
        SetBuffer(Memory<byte>.Empty);
        _source.Reset();
        return socket.ReceiveAsync(this) ? new ValueTask<int>(this, _source.Version) : new ValueTask<int>(Result());
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        // A zero-byte receive that completed asynchronously may have woken for bytes already taken:
        // wait again unless the socket really is readable. A synchronous completion needs no check
        // (.NET tries the receive at once and completes it only when data is there).
        while (_waitingOn is { } socket && SocketError == SocketError.Success && !IsReadable(socket))
        {
            try
            {
                if (socket.ReceiveAsync(this))
                {
                    return; // pending again: this runs once more when it completes
                }
            }
            catch (ObjectDisposedException)
            {
                break; // aborted under the wait: end it as a FIN, the connection is going
            }
        }
        _source.SetResult(Result());
    }

    private static bool IsReadable(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return true; // aborted or failed: let the caller's next receive say so
        }
    }

    private int Result()
    {
        int result = SocketError == SocketError.Success ? BytesTransferred : -1;
        _waitingOn = null;
        SetBuffer(Memory<byte>.Empty);
        return result;
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
