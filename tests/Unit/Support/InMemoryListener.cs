using System.Net;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>A bound port of the in-memory transport: <see cref="Accept"/> hands a new connection to the driver.</summary>
internal sealed class InMemoryListener : ConnectionListener
{
    private readonly MillisecondClock _clock;
    private readonly InMemoryTransportFactory _factory;
    private AcceptedHandler? _onAccepted;

    public InMemoryListener(IPEndPoint endPoint, MillisecondClock clock, InMemoryTransportFactory factory)
        : base(endPoint)
    {
        _clock = clock;
        _factory = factory;
    }

    public bool IsDisposed { get; private set; }

    public override void Start(AcceptedHandler onAccepted, Action<Exception> onError) => _onAccepted = onAccepted;

    public InMemoryClient Accept(IPEndPoint local, IPEndPoint remote)
    {
        var connection = new InMemoryConnection(local, remote, Binding.Settings, _clock);
        var client = new InMemoryClient(connection);
        (_onAccepted ?? throw new InvalidOperationException("The listener was not started."))(this, connection);
        return client;
    }

    public override void Dispose()
    {
        IsDisposed = true;
        _factory.Remove(this);
    }
}
