namespace HttpSysLite.Transport.Http;

/// <summary>
/// The request-head limits HTTP.sys keeps in the registry (HTTP.sys registry settings page):
/// MaxRequestBytes and MaxFieldLength default to 16 KiB; Kestrel's header count default is 100.
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

    /// <summary>The defaults above.</summary>
    public static HttpParserLimits Default => new(DefaultMaxRequestBytes, DefaultMaxFieldLength, DefaultMaxRequestHeaderCount);
}
