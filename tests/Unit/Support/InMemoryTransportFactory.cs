using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>
/// A transport with no sockets: listeners are entries in a table, and <see cref="Connect"/> makes a
/// connection whose client end is a pair of pipes. The driver above it is the real one, so the
/// connection loop (keep-alive, pipelining, timeouts, rejections, close) runs as it does on a socket.
/// </summary>
internal sealed class InMemoryTransportFactory : TransportFactory
{
    private readonly ConcurrentDictionary<int, InMemoryListener> _listeners = new();
    private int _nextPort = 49000;
    private int _nextClientPort = 30000;

    public override ConnectionListener BindWildcard(int port, MillisecondClock clock) =>
        Bind(new IPEndPoint(IPAddress.IPv6Any, port), clock);

    public override ConnectionListener BindAddress(IPEndPoint endPoint, MillisecondClock clock) => Bind(endPoint, clock);

    /// <summary>Connects a client to <paramref name="port"/>, as if from 127.0.0.1.</summary>
    public InMemoryClient Connect(int port, IPAddress? localAddress = null)
    {
        if (!_listeners.TryGetValue(port, out var listener) || listener.IsDisposed)
        {
            throw new SocketException((int)SocketError.ConnectionRefused);
        }
        var local = new IPEndPoint(localAddress ?? IPAddress.Loopback, port);
        var remote = new IPEndPoint(IPAddress.Loopback, Interlocked.Increment(ref _nextClientPort));
        return listener.Accept(local, remote);
    }

    private InMemoryListener Bind(IPEndPoint endPoint, MillisecondClock clock)
    {
        if (endPoint.Port == 0)
        {
            endPoint = new IPEndPoint(endPoint.Address, Interlocked.Increment(ref _nextPort));
        }
        var listener = new InMemoryListener(endPoint, clock, this);
        if (!_listeners.TryAdd(endPoint.Port, listener))
        {
            if (_listeners.TryGetValue(endPoint.Port, out var existing) && existing.IsDisposed && _listeners.TryUpdate(endPoint.Port, listener, existing))
            {
                return listener;
            }
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        }
        return listener;
    }

    internal void Remove(InMemoryListener listener) =>
        _listeners.TryRemove(new KeyValuePair<int, InMemoryListener>(listener.EndPoint.Port, listener));
}
