using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// Interned header names. The parser maps a known name to one of these strings, so the connection
/// recognises framing headers by reference and no name string is allocated for them.
/// </summary>
public static class KnownHeaders
{
#pragma warning disable CS1591 // the names say what they are
    public const string Accept = "Accept";
    public const string AcceptCharset = "Accept-Charset";
    public const string AcceptEncoding = "Accept-Encoding";
    public const string AcceptLanguage = "Accept-Language";
    public const string Authorization = "Authorization";
    public const string CacheControl = "Cache-Control";
    public const string Connection = "Connection";
    public const string ContentLength = "Content-Length";
    public const string ContentType = "Content-Type";
    public const string Cookie = "Cookie";
    public const string Date = "Date";
    public const string Expect = "Expect";
    public const string Host = "Host";
    public const string IfModifiedSince = "If-Modified-Since";
    public const string IfRange = "If-Range";
    public const string IfNoneMatch = "If-None-Match";
    public const string KeepAlive = "Keep-Alive";
    public const string Origin = "Origin";
    public const string Pragma = "Pragma";
    public const string Range = "Range";
    public const string Referer = "Referer";
    public const string SecWebSocketKey = "Sec-WebSocket-Key";
    public const string SecWebSocketVersion = "Sec-WebSocket-Version";
    public const string SecWebSocketExtensions = "Sec-WebSocket-Extensions";
    public const string SecWebSocketProtocol = "Sec-WebSocket-Protocol";
    public const string Server = "Server";
    public const string TE = "TE";
    public const string TransferEncoding = "Transfer-Encoding";
    public const string Upgrade = "Upgrade";
    public const string UpgradeInsecureRequests = "Upgrade-Insecure-Requests";
    public const string UserAgent = "User-Agent";
#pragma warning restore CS1591

    private static readonly string[] s_names =
    [
        Accept, AcceptCharset, AcceptEncoding, AcceptLanguage, Authorization, CacheControl, Connection,
        ContentLength, ContentType, Cookie, Date, Expect, Host, IfModifiedSince, IfNoneMatch, IfRange, KeepAlive,
        Origin, Pragma, Range, Referer, SecWebSocketKey, SecWebSocketVersion, SecWebSocketExtensions,
        SecWebSocketProtocol, Server, TE, TransferEncoding, Upgrade, UpgradeInsecureRequests, UserAgent,
    ];

    /// <summary>The interned name for a known header (case-insensitive, RFC 9110 section 5.1), or null.</summary>
    public static string? Find(ReadOnlySpan<byte> name)
    {
        foreach (string known in s_names)
        {
            if (known.Length == name.Length && Ascii.EqualsIgnoreCase(name, known))
            {
                return known;
            }
        }
        return null;
    }
}
