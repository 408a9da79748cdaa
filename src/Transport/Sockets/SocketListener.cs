using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A listening TCP socket, and what both socket engines do with what it accepts: which accept errors
/// are the client's business and which are the listener's, TCP_NODELAY, and making the connection. A
/// wildcard endpoint binds a single dual-mode IPv6 socket on [::] with IPV6_V6ONLY off, so IPv4
/// clients arrive on the same socket as IPv4-mapped addresses; where the OS has no IPv6 it falls back
/// to 0.0.0.0. An IP literal binds just that address.
/// </summary>
internal abstract class SocketListener : ConnectionListener
{
    /// <summary>How long accepting pauses after an error that would repeat at once (EMFILE: no descriptors left).</summary>
    protected static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>A listener fault that repeats (EMFILE while descriptors stay short) is reported at most this often.</summary>
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    private AcceptedHandler? _onAccepted;
    private Action<Exception>? _onError;
    private long _lastReport = -(long)ReportInterval.TotalMilliseconds;

    protected SocketListener(Socket socket, MillisecondClock clock)
        : base((IPEndPoint)socket.LocalEndPoint!)
    {
        Socket = socket;
        Clock = clock;
    }

    protected Socket Socket { get; }

    protected MillisecondClock Clock { get; }

    protected volatile bool Disposed;

    /// <summary>Opens the wildcard socket for <paramref name="port"/> (0: an ephemeral port).</summary>
    public static Socket OpenWildcard(int port)
    {
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                return Open(new IPEndPoint(IPAddress.IPv6Any, port), dualMode: true);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
            {
                // IPv6 compiled in but disabled on this host (e.g. ipv6.disable=1): serve IPv4 alone.
            }
        }
        return Open(new IPEndPoint(IPAddress.Any, port), dualMode: false);
    }

    /// <summary>Opens a socket listening on exactly <paramref name="endPoint"/>.</summary>
    public static Socket OpenAddress(IPEndPoint endPoint) => Open(endPoint, dualMode: false);

    public sealed override void Start(AcceptedHandler onAccepted, Action<Exception> onError)
    {
        _onAccepted = onAccepted;
        _onError = onError;
        StartAccepting();
    }

    public override void Dispose()
    {
        Disposed = true;
        Socket.Dispose();
    }

    /// <summary>Starts the engine's accept path; each accepted socket goes to <see cref="OnAccepted"/>.</summary>
    protected abstract void StartAccepting();

    /// <summary>The epoll loop a TLS connection's stream waits on; null: .NET's socket engine.</summary>
    protected virtual EpollLoop? TlsLoop => null;

    /// <summary>The engine's connection over an accepted socket.</summary>
    protected abstract TransportConnection CreateConnection(Socket socket, ConnectionSettings settings);

    /// <summary>
    /// Decides what an accept failure means, for both engines: false when it is the client's business
    /// (it gave up while queued in the backlog, or the backlog was empty: accept the next one); true for
    /// a listener fault that would repeat at once (EMFILE: no descriptors left), which is reported, and
    /// then the engine pauses accepting for <see cref="AcceptBackoff"/>.
    /// </summary>
    protected bool OnAcceptFailed(SocketException ex)
    {
        if (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return false;
        }
        long now = Environment.TickCount64;
        if (now - _lastReport >= (long)ReportInterval.TotalMilliseconds)
        {
            _lastReport = now; // once, then once per interval while it lasts: a log line per pause would flood
            _onError!(ex);
        }
        return true;
    }

    /// <summary>Reports a fault of this listener (accepting pauses).</summary>
    protected void ReportError(Exception ex) => _onError!(ex);

    /// <summary>Prepares an accepted socket and hands its connection on; a socket reset meanwhile is disposed and skipped.</summary>
    protected void OnAccepted(Socket accepted)
    {
        TransportConnection connection;
        try
        {
            accepted.NoDelay = true;
            // A TLS port's connections run the handshake first, whatever engine accepted them.
            connection = Binding.IsTls ? new Tls.TlsConnection(accepted, Binding, Clock, TlsLoop) : CreateConnection(accepted, Binding.Settings);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            accepted.Dispose(); // reset as soon as accepted: not a listener fault, and nothing to serve
            return;
        }
        _onAccepted!(this, connection);
    }

    private static Socket Open(IPEndPoint endPoint, bool dualMode)
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
            return socket;
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
}
