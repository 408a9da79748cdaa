using System.Globalization;
using HttpSysLite.Transport.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// Decides from the response headers whether a response may be cached and for how long — the rules
/// of HTTP.sys and ASP.NET Core's HttpSys server: Cache-Control must say public; no Set-Cookie, Vary
/// or Pragma; the lifetime is s-maxage, else max-age, else Expires minus now, and must be positive.
/// (Status, request method, Authorization, Range and the body's completeness are checked elsewhere.)
/// </summary>
internal static class ResponseCachePolicy
{
    public static CachePolicy? Compute(IHeaderDictionary headers)
    {
        if (headers.ContainsKey(HeaderNames.SetCookie) || headers.ContainsKey(HeaderNames.Vary) || headers.ContainsKey(HeaderNames.Pragma))
        {
            return null;
        }
        string cacheControl = headers.CacheControl.ToString();
        if (cacheControl.Length == 0 || !CacheControlHeaderValue.TryParse(cacheControl, out var parsed)
            || !parsed.Public || parsed.Private || parsed.NoStore || parsed.NoCache)
        {
            return null;
        }

        string? expires = headers.Expires.Count > 0 ? headers.Expires.ToString() : null;
        TimeSpan? lifetime = parsed.SharedMaxAge ?? parsed.MaxAge;
        if (lifetime is null && expires is not null
            && DateTimeOffset.TryParseExact(expires, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt))
        {
            lifetime = expiresAt - DateTimeOffset.UtcNow;
        }
        if (lifetime is not { } ttl || ttl <= TimeSpan.Zero)
        {
            return null;
        }

        string? etag = headers.ETag.Count > 0 ? headers.ETag.ToString() : null;
        DateTimeOffset? lastModified = headers.LastModified.Count > 0
            && DateTimeOffset.TryParseExact(headers.LastModified.ToString(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var modified)
            ? modified
            : null;
        return new CachePolicy(ttl, etag, lastModified, cacheControl, expires);
    }
}
