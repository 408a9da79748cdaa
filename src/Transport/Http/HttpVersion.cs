namespace HttpSysLite.Transport.Http;

/// <summary>The HTTP versions the driver speaks on a connection (RFC 9112 section 2.3).</summary>
public enum HttpVersion
{
    /// <summary>HTTP/1.0: close-delimited bodies unless keep-alive is asked for.</summary>
    Http10,
    /// <summary>HTTP/1.1: persistent by default, chunked transfer coding available.</summary>
    Http11,
}
