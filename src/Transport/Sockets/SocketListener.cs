using System.Net;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// One listening socket. A wildcard or host-name endpoint binds a single dual-mode IPv6 socket on
/// [::] with IPV6_V6ONLY off, so IPv4 clients arrive on the same socket as IPv4-mapped addresses;
/// where the OS has no IPv6 it falls back to 0.0.0.0. An IP literal binds just that address.
/// </summary>
internal sealed class SocketListener : IDisposable
{
    private readonly Socket _socket;

    private SocketListener(Socket socket, IPEndPoint endPoint)
    {
        _socket = socket;
        EndPoint = endPoint;
    }

    /// <summary>The bound endpoint, with the real port when port 0 was asked for.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The port's shared settings and connection count (set by the driver right after binding).</summary>
    public PortBinding Binding { get; set; } = null!;

    /// <summary>True when this is the dual-mode [::] socket (or its 0.0.0.0 fallback).</summary>
    public bool IsWildcard => EndPoint.Address.Equals(IPAddress.IPv6Any) || EndPoint.Address.Equals(IPAddress.Any);

    /// <summary>Binds the wildcard listener for <paramref name="port"/> (0: an ephemeral port).</summary>
    public static SocketListener BindWildcard(int port)
    {
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                return Bind(new IPEndPoint(IPAddress.IPv6Any, port), dualMode: true);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
            {
                // IPv6 compiled in but disabled on this host (e.g. ipv6.disable=1): serve IPv4 alone.
            }
        }
        return Bind(new IPEndPoint(IPAddress.Any, port), dualMode: false);
    }

    /// <summary>Binds exactly <paramref name="endPoint"/> (an IP literal prefix).</summary>
    public static SocketListener BindAddress(IPEndPoint endPoint) => Bind(endPoint, dualMode: false);

    private static SocketListener Bind(IPEndPoint endPoint, bool dualMode)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualMode)
            {
                socket.DualMode = true;
            }
            else if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }
            AllowRebindDuringTimeWait(socket);
            socket.NoDelay = true;
            socket.Bind(endPoint);
            socket.Listen(512);
            return new SocketListener(socket, (IPEndPoint)socket.LocalEndPoint!);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Lets a restarted server rebind while its old connections sit in TIME_WAIT, as Kestrel can on Unix.
    /// Only SO_REUSEADDR: .NET's ReuseAddress option also sets SO_REUSEPORT on Linux, which let a second
    /// process bind the same port and silently take half its connections instead of failing with
    /// "address already in use". Windows needs neither (and its SO_REUSEADDR would allow the same theft).
    /// </summary>
    private static void AllowRebindDuringTimeWait(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xFFFF /* SOL_SOCKET */, 0x4 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
    }

    /// <summary>Accepts the next connection, or null once the listener is disposed.</summary>
    public async ValueTask<Socket?> AcceptAsync()
    {
        while (true)
        {
            try
            {
                var socket = await _socket.AcceptAsync().ConfigureAwait(false);
                socket.NoDelay = true;
                return socket;
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client gave up while queued in the backlog; that is its business, not a listener fault.
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
