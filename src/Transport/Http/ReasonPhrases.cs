using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>Reason phrases (RFC 9110 section 15) and cached "HTTP/1.1 NNN Reason\r\n" lines.</summary>
public static class ReasonPhrases
{
    private static readonly byte[]?[] s_statusLines = new byte[600][];

    /// <summary>The standard reason phrase for a status code, or an empty string.</summary>
    public static string Get(int statusCode) => statusCode switch
    {
        100 => "Continue", 101 => "Switching Protocols", 102 => "Processing", 103 => "Early Hints",
        200 => "OK", 201 => "Created", 202 => "Accepted", 203 => "Non-Authoritative Information", 204 => "No Content",
        205 => "Reset Content", 206 => "Partial Content", 207 => "Multi-Status",
        300 => "Multiple Choices", 301 => "Moved Permanently", 302 => "Found", 303 => "See Other", 304 => "Not Modified",
        307 => "Temporary Redirect", 308 => "Permanent Redirect",
        400 => "Bad Request", 401 => "Unauthorized", 402 => "Payment Required", 403 => "Forbidden", 404 => "Not Found",
        405 => "Method Not Allowed", 406 => "Not Acceptable", 407 => "Proxy Authentication Required", 408 => "Request Timeout",
        409 => "Conflict", 410 => "Gone", 411 => "Length Required", 412 => "Precondition Failed", 413 => "Payload Too Large",
        414 => "URI Too Long", 415 => "Unsupported Media Type", 416 => "Range Not Satisfiable", 417 => "Expectation Failed",
        421 => "Misdirected Request", 422 => "Unprocessable Entity", 426 => "Upgrade Required", 428 => "Precondition Required",
        429 => "Too Many Requests", 431 => "Request Header Fields Too Large", 451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error", 501 => "Not Implemented", 502 => "Bad Gateway", 503 => "Service Unavailable",
        504 => "Gateway Timeout", 505 => "HTTP Version Not Supported",
        _ => string.Empty,
    };

    /// <summary>
    /// The status line with its CRLF, for a standard phrase; cached per code. Always HTTP/1.1, also to
    /// an HTTP/1.0 client: a server answers with its own highest version (RFC 9110 section 6.2).
    /// </summary>
    public static byte[] StatusLine(int statusCode) =>
        (uint)statusCode < (uint)s_statusLines.Length
            ? s_statusLines[statusCode] ??= Build(statusCode, Get(statusCode))
            : Build(statusCode, Get(statusCode));

    /// <summary>A status line with a custom reason phrase.</summary>
    public static byte[] Build(int statusCode, string reasonPhrase) =>
        Encoding.ASCII.GetBytes("HTTP/1.1 " + statusCode.ToString("D3", System.Globalization.CultureInfo.InvariantCulture) + " " + reasonPhrase + "\r\n");
}
