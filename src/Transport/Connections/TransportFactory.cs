using System.Net;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// Binds listeners for the driver (the role of Kestrel's IConnectionListenerFactory): the one place
/// that decides which transport carries the connections. <see cref="Default"/> is the epoll engine on
/// Linux and .NET's socket engine elsewhere; tests choose another (.NET's engine on Linux too, or an
/// in-memory transport) by giving the driver a factory.
/// </summary>
internal abstract class TransportFactory
{
    /// <summary>The platform's best transport.</summary>
    public static TransportFactory Default { get; } =
        EpollInterop.IsSupported ? EpollTransportFactory.Instance : SocketEngineTransportFactory.Instance;

    /// <summary>
    /// Binds the wildcard listener for <paramref name="port"/> (0: an ephemeral port): one dual-mode
    /// [::] endpoint that IPv4 clients reach too.
    /// </summary>
    public abstract ConnectionListener BindWildcard(int port, MillisecondClock clock);

    /// <summary>Binds exactly <paramref name="endPoint"/> (an IP literal prefix).</summary>
    public abstract ConnectionListener BindAddress(IPEndPoint endPoint, MillisecondClock clock);
}
