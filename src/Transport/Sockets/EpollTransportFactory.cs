using System.Net;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>Binds listeners whose connections an epoll loop serves (Linux).</summary>
internal sealed class EpollTransportFactory : TransportFactory
{
    public static readonly EpollTransportFactory Instance = new();

    public override ConnectionListener BindWildcard(int port, MillisecondClock clock) =>
        new EpollListener(SocketListener.OpenWildcard(port), clock);

    public override ConnectionListener BindAddress(IPEndPoint endPoint, MillisecondClock clock) =>
        new EpollListener(SocketListener.OpenAddress(endPoint), clock);
}
