using System.Net;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// One bound endpoint that hands new connections to the driver (the role of Kestrel's
/// IConnectionListener). How it waits for them is the transport's business; the driver only sees
/// <see cref="TransportConnection"/>s arrive.
/// </summary>
internal abstract class ConnectionListener : IDisposable
{
    /// <summary>Where <see cref="Start"/> delivers each new connection, on the accepting thread.</summary>
    public delegate void AcceptedHandler(ConnectionListener listener, TransportConnection connection);

    protected ConnectionListener(IPEndPoint endPoint) => EndPoint = endPoint;

    /// <summary>The bound endpoint, with the real port when port 0 was asked for.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The port's shared settings and connection count (set by the driver right after binding).</summary>
    public PortBinding Binding { get; set; } = null!;

    /// <summary>
    /// True for the port's wildcard listener, the dual-mode [::] socket (or its 0.0.0.0 fallback where IPv6
    /// is off): it takes connections to every address. Set by the driver when it binds one; a 0.0.0.0
    /// listener bound for a 0.0.0.0 prefix takes IPv4 alone and is not the wildcard.
    /// </summary>
    public bool IsWildcard { get; set; }

    /// <summary>Whether connections to <paramref name="address"/> arrive on this listener.</summary>
    public bool Covers(IPAddress address) => IsWildcard || EndPoint.Address.Equals(address)
        || (EndPoint.Address.Equals(IPAddress.Any) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);

    /// <summary>
    /// Starts accepting. <paramref name="onAccepted"/> runs for each connection on the thread that
    /// accepted it (an I/O loop thread, where it must not block, when <see cref="TransportConnection.OnLoopThread"/>
    /// says so); <paramref name="onError"/> for listener faults (accepting then pauses briefly).
    /// </summary>
    public abstract void Start(AcceptedHandler onAccepted, Action<Exception> onError);

    /// <summary>Stops listening; established connections are not affected.</summary>
    public abstract void Dispose();
}
