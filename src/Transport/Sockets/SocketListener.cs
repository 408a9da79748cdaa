using System.Net;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// One listening socket. A wildcard or host-name endpoint binds a single dual-mode IPv6 socket on
/// [::] with IPV6_V6ONLY off, so IPv4 clients arrive on the same socket as IPv4-mapped addresses;
/// where the OS has no IPv6 it falls back to 0.0.0.0. An IP literal binds just that address.
/// </summary>
internal sealed class SocketListener : EpollRegistration, IDisposable
{
    /// <summary>How long accepting pauses after an error that would repeat at once (EMFILE: no descriptors left).</summary>
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    private readonly Socket _socket;
    private EpollLoop? _loop;
    private Action<SocketListener, Socket>? _onAccepted;
    private Action<Exception>? _onError;
    private Timer? _backoff;
    private volatile bool _disposed;

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

    /// <summary>
    /// On Linux, accepts on an epoll loop thread: <paramref name="onAccepted"/> runs there for each new
    /// connection (it must not block). Level-triggered, one accept per event: a backlog of several
    /// connections reports the listener again on the loop's next wait, between the other sockets'
    /// events. False where there is no epoll loop; then call <see cref="AcceptAsync"/> in a loop.
    /// </summary>
    public bool TryAcceptOnLoop(Action<SocketListener, Socket> onAccepted, Action<Exception> onError)
    {
        var loop = EpollLoop.Next();
        if (loop is null)
        {
            return false;
        }
        _onAccepted = onAccepted;
        _onError = onError;
        _socket.Blocking = false; // an event that finds the backlog empty (the client gave up) gets WouldBlock, not a wait
        _loop = loop;
        loop.Register(this, (int)_socket.Handle, EpollInterop.EPOLLIN);
        return true;
    }

    internal override void OnEpollEvent(uint events)
    {
        Socket accepted;
        try
        {
            accepted = _socket.Accept();
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return; // the client gave up while queued in the backlog; that is its business, not a listener fault
        }
        catch (ObjectDisposedException)
        {
            return; // stopped listening
        }
        catch (SocketException ex)
        {
            // The same error would come back at once (level-triggered): pause this listener, not the loop.
            PauseAccepting();
            _onError!(ex);
            return;
        }
        if (Prepare(accepted))
        {
            _onAccepted!(this, accepted);
        }
    }

    /// <summary>Sets TCP_NODELAY on an accepted socket; false (and the socket disposed) if it was reset meanwhile.</summary>
    private static bool Prepare(Socket accepted)
    {
        try
        {
            accepted.NoDelay = true;
            return true;
        }
        catch (SocketException)
        {
            accepted.Dispose(); // reset as soon as accepted: not a listener fault, and nothing to serve
            return false;
        }
    }

    internal override void OnEpollEventFailed(Exception exception)
    {
        PauseAccepting();
        _onError!(exception);
    }

    private void PauseAccepting()
    {
        try
        {
            if (_disposed || _loop!.Modify(this, (int)_socket.Handle, 0) != 0)
            {
                return;
            }
            _backoff ??= new Timer(static state => ((SocketListener)state!).ResumeAccepting(), this, Timeout.Infinite, Timeout.Infinite);
            _backoff.Change(AcceptBackoff, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nothing to pause.
        }
    }

    private void ResumeAccepting()
    {
        try
        {
            if (!_disposed)
            {
                _loop!.Modify(this, (int)_socket.Handle, EpollInterop.EPOLLIN);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed as the pause ended.
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
                if (Prepare(socket))
                {
                    return socket;
                }
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
    public void Dispose()
    {
        _disposed = true;
        _loop?.Unregister(this); // closing the socket below removes it from epoll
        _backoff?.Dispose();
        _socket.Dispose();
    }
}
