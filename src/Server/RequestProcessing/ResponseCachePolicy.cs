using System.Globalization;
using HttpSysLite.Transport.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// Decides from the response headers whether a response may be cached and for how long — the rules
/// of HTTP.sys and ASP.NET Core's HttpSys server: Cache-Control must say public; no Set-Cookie, Vary
/// or Pragma; the lifetime is s-maxage, else max-age, else Expires minus now, and must be positive.
/// A response that already has an Age (one replayed by a cache in the app, such as the ResponseCaching
/// middleware) has lived part of a max-age lifetime: what is left of it must be positive, and the age
/// goes into the policy so the driver's hits say how old they are (RFC 9111 sections 4.2 and 4.2.3).
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

        TimeSpan? age = null;
        if (headers.Age.Count > 0)
        {
            if (!TryParseAge(headers.Age[0], out var stated))
            {
                return null; // a cache that cannot tell how old a response is cannot tell when it goes stale
            }
            age = stated;
        }

        string? expires = headers.Expires.Count > 0 ? headers.Expires.ToString() : null;
        // freshness_lifetime minus the age it arrived with (RFC 9111 section 4.2.3: the corrected initial
        // age of a response generated here is its Age). Expires is a point in time, so the time left until
        // it already counts whatever age the response has.
        TimeSpan? lifetime = (parsed.SharedMaxAge ?? parsed.MaxAge) - (age ?? TimeSpan.Zero);
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
        return new CachePolicy(ttl, etag, lastModified, cacheControl, expires, age);
    }

    /// <summary>
    /// Age = delta-seconds = 1*DIGIT (RFC 9111 sections 1.2.2 and 5.1); of a list, the first member. A value
    /// too large to hold is 2^31 seconds, as section 1.2.2 says (and so never fresh).
    /// </summary>
    private static bool TryParseAge(string? value, out TimeSpan age)
    {
        age = default;
        var first = value.AsSpan();
        int comma = first.IndexOf(',');
        first = (comma < 0 ? first : first[..comma]).Trim(" \t");
        if (first.IsEmpty || first.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }
        age = TimeSpan.FromSeconds(long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) && seconds < 1L << 31
            ? seconds
            : 1L << 31);
        return true;
    }
}
