namespace HttpSysLite.Transport.Connections;

/// <summary>
/// When the driver did each step for one request, as Stopwatch timestamps (0: not reached): the data
/// behind HttpSys's IHttpSysRequestTimingFeature, which HTTP.sys fills from its own request timing
/// info. Steps with no work between them share a reading: parsing starts on the read that brought the
/// first byte, routing (with the cache lookup) starts when the head is parsed and validated, and the
/// request is queued as soon as it is routed.
/// </summary>
public struct RequestTimestamps
{
    /// <summary>The connection was accepted.</summary>
    public long ConnectionStart;

    /// <summary>The first byte of this request arrived (and its head parsing began).</summary>
    public long DataStart;

    /// <summary>The head was parsed and validated (and routing began).</summary>
    public long HeaderParseEnd;

    /// <summary>The request was routed to a queue (and queued).</summary>
    public long RoutingEnd;

    /// <summary>The request was handed to the app.</summary>
    public long DeliveredForIO;
}
