namespace HttpSysLite.Transport.Http;

/// <summary>Maps a rejection reason to its status code and reason phrase.</summary>
public static class RequestRejection
{
    /// <summary>The status code the driver answers for a reason.</summary>
    public static int StatusCode(RequestRejectionReason reason) => reason switch
    {
        RequestRejectionReason.UnsupportedHttpVersion => 505,
        RequestRejectionReason.RequestLineTooLong => 414,
        RequestRejectionReason.HeadersTooLarge => 431,
        RequestRejectionReason.UnknownTransferCoding => 501,
        RequestRejectionReason.RequestBodyTooLarge => 413,
        RequestRejectionReason.RequestHeadersTimeout or RequestRejectionReason.RequestBodyTimeout => 408,
        RequestRejectionReason.MethodNotAllowed => 405,
        _ => 400,
    };

    /// <summary>A short English sentence for logs and exceptions.</summary>
    public static string Describe(RequestRejectionReason reason) => reason switch
    {
        RequestRejectionReason.InvalidRequestLine => "Malformed request line.",
        RequestRejectionReason.InvalidMethod => "Invalid method token.",
        RequestRejectionReason.InvalidRequestTarget => "Invalid request target.",
        RequestRejectionReason.UnsupportedHttpVersion => "Unsupported HTTP version.",
        RequestRejectionReason.RequestLineTooLong => "Request line too long.",
        RequestRejectionReason.HeadersTooLarge => "Request header section too large.",
        RequestRejectionReason.InvalidHeader => "Malformed header field.",
        RequestRejectionReason.InvalidHost => "Missing, repeated or invalid Host header.",
        RequestRejectionReason.InvalidContentLength => "Invalid Content-Length.",
        RequestRejectionReason.TransferEncodingWithContentLength => "Both Transfer-Encoding and Content-Length.",
        RequestRejectionReason.FinalCodingNotChunked => "The final transfer coding is not chunked.",
        RequestRejectionReason.UnknownTransferCoding => "Unsupported transfer coding.",
        RequestRejectionReason.InvalidChunk => "Malformed chunked body.",
        RequestRejectionReason.RequestBodyTooLarge => "Request body too large.",
        RequestRejectionReason.UnexpectedEndOfBody => "Unexpected end of request body.",
        RequestRejectionReason.NoMatchingPrefix => "No URL prefix matches the request.",
        RequestRejectionReason.InvalidPath => "Invalid request path.",
        RequestRejectionReason.UrlSegmentLimitExceeded => "A URL segment is too long, or there are too many.",
        RequestRejectionReason.RequestHeadersTimeout => "The request head did not arrive in time (Timeouts.HeaderWait).",
        RequestRejectionReason.RequestBodyTimeout => "The request body stalled (Timeouts.EntityBody).",
        RequestRejectionReason.MethodNotAllowed => "CONNECT is not served: this is an origin server, not a proxy.",
        _ => "Bad request.",
    };
}
