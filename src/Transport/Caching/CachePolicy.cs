namespace HttpSysLite.Transport.Caching;

/// <summary>
/// The server's verdict that a response may be cached, and for how long: HTTP.sys's
/// HTTP_CACHE_POLICY, plus the validators a cached 304 needs.
/// </summary>
/// <param name="TimeToLive">How long the entry stays fresh.</param>
/// <param name="ETag">The response's ETag, for If-None-Match.</param>
/// <param name="LastModified">The response's Last-Modified, for If-Modified-Since.</param>
/// <param name="CacheControl">Cache-Control, repeated on a 304.</param>
/// <param name="Expires">Expires, repeated on a 304.</param>
/// <param name="Age">
/// The response's Age when it had one (RFC 9111 section 5.1): the entry is stored without it and each hit
/// says this plus the time stored. <paramref name="TimeToLive"/> already has it subtracted.
/// </param>
public sealed record CachePolicy(TimeSpan TimeToLive, string? ETag, DateTimeOffset? LastModified, string? CacheControl, string? Expires,
    TimeSpan? Age = null);
