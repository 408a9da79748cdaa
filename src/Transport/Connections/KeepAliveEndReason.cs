namespace HttpSysLite.Transport.Connections;

/// <summary>
/// Why a connection does not outlive its current request (RFC 9112 section 9.3: HTTP/1.1 connections
/// persist unless something says otherwise). <see cref="None"/> while it persists. The first reason
/// recorded is the one kept: a later one only confirms an end already decided.
/// </summary>
internal enum KeepAliveEndReason
{
    /// <summary>The connection persists.</summary>
    None,

    /// <summary>The client sent Connection: close, or HTTP/1.0 without keep-alive (RFC 9112 section 9.3).</summary>
    ClientClose,

    /// <summary>The request was answered by the driver with an error status or a 503, sent with Connection: close.</summary>
    RequestRejected,

    /// <summary>The request body failed (bad framing, too large, timed out, cut short): where the next request starts is unknown.</summary>
    RequestBodyFailed,

    /// <summary>More of the body was left unread than is worth skipping, or the client still waits for 100 Continue.</summary>
    UnreadRequestBody,

    /// <summary>The app's own Connection header asked to close.</summary>
    ResponseConnectionClose,

    /// <summary>The app set Transfer-Encoding itself, so only the connection's end marks its body's end.</summary>
    AppFramedBody,

    /// <summary>An HTTP/1.0 body of unknown length ends when the connection does (RFC 9112 section 6.3, rule 8).</summary>
    CloseDelimitedBody,

    /// <summary>The app wrote fewer bytes than its Content-Length: the client would wait for the rest.</summary>
    ContentLengthMismatch,

    /// <summary>The connection was handed to the app as a raw stream (101 Switching Protocols).</summary>
    Upgraded,

    /// <summary>Asking the client for a certificate after the handshake failed: the TLS state is not trusted with another request.</summary>
    ClientCertificateFailed,
}
