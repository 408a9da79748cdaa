namespace HttpSysLite.Transport.Http;

/// <summary>Why the driver refused a request. Each reason maps to one status code.</summary>
public enum RequestRejectionReason
{
    /// <summary>Not rejected.</summary>
    None,
    /// <summary>The request line is not method SP request-target SP HTTP-version (RFC 9112 section 3).</summary>
    InvalidRequestLine,
    /// <summary>The method is not a token (RFC 9110 section 9.1).</summary>
    InvalidMethod,
    /// <summary>The request-target has characters outside RFC 3986 or an unusable form.</summary>
    InvalidRequestTarget,
    /// <summary>An HTTP version this server does not speak (RFC 9110 section 15.6.6): 505.</summary>
    UnsupportedHttpVersion,
    /// <summary>The request line is longer than the limit: 414.</summary>
    RequestLineTooLong,
    /// <summary>The header section is longer than MaxRequestBytes, a field is longer than MaxFieldLength, or there are too many fields: 431.</summary>
    HeadersTooLarge,
    /// <summary>A header line is malformed (name, colon, obsolete folding, bare CR, control characters).</summary>
    InvalidHeader,
    /// <summary>HTTP/1.1 without exactly one valid Host (RFC 9112 section 3.2).</summary>
    InvalidHost,
    /// <summary>Content-Length is not a non-negative decimal, overflows, or repeats with another value (RFC 9110 section 8.6).</summary>
    InvalidContentLength,
    /// <summary>Both Transfer-Encoding and Content-Length (RFC 9112 section 6.1: we reject rather than guess).</summary>
    TransferEncodingWithContentLength,
    /// <summary>Transfer-Encoding whose final coding is not chunked (RFC 9112 section 6.3).</summary>
    FinalCodingNotChunked,
    /// <summary>A transfer coding we do not implement (RFC 9112 section 6.1): 501.</summary>
    UnknownTransferCoding,
    /// <summary>Malformed chunked framing (RFC 9112 section 7.1).</summary>
    InvalidChunk,
    /// <summary>The body is larger than MaxRequestBodySize: 413.</summary>
    RequestBodyTooLarge,
    /// <summary>The client closed the connection before the body was complete.</summary>
    UnexpectedEndOfBody,
    /// <summary>No registered URL prefix matches the request (HTTP.sys answers 400).</summary>
    NoMatchingPrefix,
    /// <summary>The path does not canonicalise (invalid UTF-8, encoded control characters, dot-segments above the root).</summary>
    InvalidPath,
    /// <summary>A segment of the canonical path is longer than UrlSegmentMaxLength, or there are more than UrlSegmentMaxCount (HTTP.sys: 400).</summary>
    UrlSegmentLimitExceeded,
    /// <summary>The request head did not complete within Timeouts.HeaderWait: 408.</summary>
    RequestHeadersTimeout,
    /// <summary>The body stalled longer than Timeouts.EntityBody: 408.</summary>
    RequestBodyTimeout,
    /// <summary>CONNECT asks the server to open a tunnel, which an origin server does not do (RFC 9110 section 9.3.6): 405.</summary>
    MethodNotAllowed,
}
