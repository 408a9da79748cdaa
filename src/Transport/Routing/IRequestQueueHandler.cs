using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// The seam between driver and server: what HttpReceiveHttpRequest hands to user mode. The handler
/// runs the request to completion: it must complete (or abort) the response before its task ends.
/// </summary>
public interface IRequestQueueHandler
{
    /// <summary>Processes one request; called inline on the connection's loop.</summary>
    ValueTask ProcessRequestAsync(RequestContext context);
}
