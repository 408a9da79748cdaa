namespace HttpSysLite.Transport.Http;

/// <summary>
/// The request-head limits HTTP.sys keeps in the registry (HTTP.sys registry settings page):
/// MaxRequestBytes and MaxFieldLength default to 16 KiB, UrlSegmentMaxLength to 260 characters and
/// UrlSegmentMaxCount to 255; Kestrel's header count default is 100.
/// </summary>
/// <param name="MaxRequestBytes">Request line plus header section, in bytes.</param>
/// <param name="MaxFieldLength">One line (request line or header field), in bytes.</param>
/// <param name="MaxRequestHeaderCount">Header fields in one request.</param>
public readonly record struct HttpParserLimits(int MaxRequestBytes, int MaxFieldLength, int MaxRequestHeaderCount)
{
    /// <summary>HTTP.sys's MaxRequestBytes default.</summary>
    public const int DefaultMaxRequestBytes = 16 * 1024;

    /// <summary>HTTP.sys's MaxFieldLength default.</summary>
    public const int DefaultMaxFieldLength = 16 * 1024;

    /// <summary>Kestrel's MaxRequestHeaderCount default (HTTP.sys has no count limit; its byte limit bounds it).</summary>
    public const int DefaultMaxRequestHeaderCount = 100;

    /// <summary>HTTP.sys's UrlSegmentMaxLength default, in characters of the canonical path.</summary>
    public const int DefaultUrlSegmentMaxLength = 260;

    /// <summary>HTTP.sys's UrlSegmentMaxCount default.</summary>
    public const int DefaultUrlSegmentMaxCount = 255;

    /// <summary>The longest segment of the canonical path (between two slashes); longer: 400.</summary>
    public int UrlSegmentMaxLength { get; init; } = DefaultUrlSegmentMaxLength;

    /// <summary>The most segments the canonical path may have; more: 400.</summary>
    public int UrlSegmentMaxCount { get; init; } = DefaultUrlSegmentMaxCount;

    /// <summary>The defaults above.</summary>
    public static HttpParserLimits Default => new(DefaultMaxRequestBytes, DefaultMaxFieldLength, DefaultMaxRequestHeaderCount);

    /// <summary>True when <paramref name="path"/> (canonical, starting with '/') is within the segment limits.</summary>
    public bool AllowsPath(ReadOnlySpan<char> path)
    {
        int count = 0;
        while (path.Length > 0)
        {
            path = path[1..]; // the leading '/'
            int slash = path.IndexOf('/');
            int length = slash < 0 ? path.Length : slash;
            if (slash < 0 && length == 0)
            {
                break; // a trailing slash ends the path; it opens no segment
            }
            if (length > UrlSegmentMaxLength || ++count > UrlSegmentMaxCount)
            {
                return false;
            }
            path = path[length..];
        }
        return true;
    }
}
