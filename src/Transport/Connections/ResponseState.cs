namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The life of one response, in order. <see cref="RequestContext"/> owns it; the server asks it
/// rather than keeping flags of its own. Only <see cref="Aborted"/> can follow any state but
/// <see cref="Completed"/>: it is the connection's abort seen from the response.
/// </summary>
public enum ResponseState
{
    /// <summary>
    /// No request is with the app: the connection reads, checks and routes the next head, or skips what
    /// was left of a body. Body streams and writers an app kept from an earlier request are refused
    /// now (they are reused per connection, so once the next request is delivered they are its own).
    /// </summary>
    Idle,

    /// <summary>Delivered to the app: status, headers and body may be set; body bytes wait in the pending buffer.</summary>
    Created,

    /// <summary>The server runs its OnStarting callbacks; their writes wait in the pending buffer too.</summary>
    Starting,

    /// <summary>The headers are fixed (HasStarted); the head is not produced yet.</summary>
    Started,

    /// <summary>The head is in the output and the framing is decided: Content-Length, chunked or close-delimited.</summary>
    HeadWritten,

    /// <summary>The whole response, with its last chunk and trailers, is in the output.</summary>
    Completed,

    /// <summary>The connection was aborted before the response completed; nothing more can be sent.</summary>
    Aborted,
}
