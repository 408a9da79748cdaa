using System.Net;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>Binds listeners whose connections .NET's socket engine serves (the portable transport; tests run it on Linux too).</summary>
internal sealed class SocketEngineTransportFactory : TransportFactory
{
    public static readonly SocketEngineTransportFactory Instance = new();

    public override ConnectionListener BindWildcard(int port, MillisecondClock clock) =>
        new SocketEngineListener(SocketListener.OpenWildcard(port), clock);

    public override ConnectionListener BindAddress(IPEndPoint endPoint, MillisecondClock clock) =>
        new SocketEngineListener(SocketListener.OpenAddress(endPoint), clock);
}
