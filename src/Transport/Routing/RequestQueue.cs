using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// A request queue: where routed requests wait for their app. Delivery is inline on the connection's
/// loop (no thread hop).
/// </summary>
public sealed class RequestQueue
{
    private readonly IRequestQueueHandler _handler;

    /// <summary>Creates a queue that delivers to <paramref name="handler"/>.</summary>
    public RequestQueue(string? name, IRequestQueueHandler handler)
    {
        Name = name;
        _handler = handler;
    }

    /// <summary>The queue's name; null for an anonymous queue.</summary>
    public string? Name { get; }

    internal ValueTask DeliverAsync(RequestContext context) => _handler.ProcessRequestAsync(context);
}
