using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A connected TCP socket behind the transport seam: what both socket engines share (endpoints,
/// shutdown, what the socket still holds unacknowledged, and .NET's gather send). The engines differ
/// only in how they wait for the socket: <see cref="EpollConnection"/> on an epoll loop (Linux),
/// <see cref="SocketEngineConnection"/> in .NET's socket engine (everywhere else).
/// </summary>
internal abstract class SocketConnection : TransportConnection
{
    private static readonly LingerOption s_resetOnClose = new(enable: true, seconds: 0);

    // Made on the first gather send through .NET (every multi-segment send on .NET's engine, only a
    // failing one on epoll): 120 B an idle epoll connection need not carry.
    private List<ArraySegment<byte>>? _sendSegments;

    protected SocketConnection(Socket socket, ConnectionSettings settings, MillisecondClock clock,
        PipeScheduler inputReader, PipeScheduler inputWriter, PipeScheduler outputReader)
        : base(Unmap((IPEndPoint)socket.LocalEndPoint!), Unmap((IPEndPoint)socket.RemoteEndPoint!), settings, clock,
            inputReader, inputWriter, outputReader)
    {
        Socket = socket;
    }

    protected Socket Socket { get; }

    internal override long UnacknowledgedBytes() => SocketSendQueue.Unacknowledged(Socket);

    internal override int MaximumSegmentSize() => SocketSendQueue.MaximumSegmentSize(Socket);

    protected override void EndOutput(bool bothDirections) =>
        Socket.Shutdown(bothDirections ? SocketShutdown.Both : SocketShutdown.Send);

    protected override void EndReceiveSide()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Receive); // a pending receive completes with 0 bytes
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: the receive side ends by itself.
        }
    }

    protected override void AbortTransport(bool reset)
    {
        try
        {
            if (reset)
            {
                // SO_LINGER on with a zero timeout: the close sends RST and drops what the kernel still
                // holds. No shutdown first, as that would send a FIN ahead of the reset.
                Socket.LingerState = s_resetOnClose;
            }
            else
            {
                Socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by the loops: nothing left to end.
        }
        Socket.Dispose();
    }

    protected override void ReleaseTransport() => Socket.Dispose();

    /// <summary>The buffer's segments as one gather list for .NET's send (reused; the send loop's thread only).</summary>
    protected List<ArraySegment<byte>> Gather(in ReadOnlySequence<byte> buffer)
    {
        var segments = _sendSegments ??= new List<ArraySegment<byte>>(4);
        segments.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                throw new InvalidOperationException("Pipe memory is not array-backed.");
            }
            segments.Add(array);
        }
        return segments;
    }

    // IPv4 peers on the dual-mode socket arrive as ::ffff:a.b.c.d; the app sees plain IPv4.
    private static IPEndPoint Unmap(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
