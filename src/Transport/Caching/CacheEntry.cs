using System.Buffers;
using System.Buffers.Text;
using System.Globalization;

namespace HttpSysLite.Transport.Caching;

/// <summary>
/// One cached response, pre-serialised: the head without Date, Connection and Age (added fresh on every
/// hit), the body, and a ready 304 head. Immutable but for its last-hit time.
/// </summary>
public sealed class CacheEntry
{
    private readonly long _timeToLive;
    private readonly long _initialAge; // seconds, or -1: the response had no Age
    private long _storedAt;
    private long _lastHit;
    private long _lastUse;

    internal CacheEntry(string key, int statusCode, byte[] head, byte[] body, byte[] notModifiedHead, CachePolicy policy, object? owner)
    {
        Key = key;
        StatusCode = statusCode;
        Head = head;
        Body = body;
        NotModifiedHead = notModifiedHead;
        ETag = policy.ETag;
        LastModified = policy.LastModified;
        Owner = owner;
        _timeToLive = (long)policy.TimeToLive.TotalMilliseconds;
        _initialAge = policy.Age is { } age ? (long)age.TotalSeconds : -1;
    }

    /// <summary>The cache key: http://host:port/path?query.</summary>
    public string Key { get; }

    /// <summary>The stored response's status.</summary>
    public int StatusCode { get; }

    internal byte[] Head { get; }

    internal byte[] Body { get; }

    internal byte[] NotModifiedHead { get; }

    internal string? ETag { get; }

    internal DateTimeOffset? LastModified { get; }

    /// <summary>Who stored it (a URL group): its entries go when it goes.</summary>
    internal object? Owner { get; }

    /// <summary>When the entry stops being fresh, on the cache's clock (set when stored: a lifetime counts from then).</summary>
    internal long ExpiresAt { get; private set; } = long.MaxValue;

    internal long LastHit => Volatile.Read(ref _lastHit);

    /// <summary>Bytes this entry holds.</summary>
    public int Size => Head.Length + Body.Length + NotModifiedHead.Length + Key.Length * 2;

    /// <summary>The cache's use counter at the last store or hit: a strict order for least-recently-used eviction.</summary>
    internal long LastUse => Volatile.Read(ref _lastUse);

    /// <summary>The cache took the entry at <paramref name="now"/>: its lifetime starts.</summary>
    internal void OnStored(long now, long use)
    {
        _storedAt = now;
        ExpiresAt = now + _timeToLive;
        Touch(now, use);
    }

    internal void Touch(long now, long use)
    {
        Volatile.Write(ref _lastHit, now);
        Volatile.Write(ref _lastUse, use);
    }

    /// <summary>True when the stored response carried Age, so each hit must say its current age.</summary>
    internal bool HasAge => _initialAge >= 0;

    /// <summary>
    /// Writes "Age: current_age" for a hit at <paramref name="now"/>, on the cache's clock: the age the
    /// response arrived with plus the whole seconds since it was stored (RFC 9111 section 4.2.3; a response
    /// made here has no transit delay to correct for). Served frozen, the Age of a replayed response
    /// (ASP.NET Core's ResponseCaching middleware sends one) would claim the entry never gets older. We
    /// recompute rather than refuse to store such responses, which would leave exactly the middleware's
    /// replays out of this cache; the line is formatted into the output's own buffer, so a hit allocates
    /// nothing more.
    /// </summary>
    internal void WriteAge(IBufferWriter<byte> output, long now)
    {
        long age = _initialAge + Math.Max(0, now - _storedAt) / 1000;
        var span = output.GetSpan(32);
        "Age: "u8.CopyTo(span);
        Utf8Formatter.TryFormat(age, span[5..], out int digits);
        "\r\n"u8.CopyTo(span[(5 + digits)..]);
        output.Advance(5 + digits + 2);
    }

    /// <summary>
    /// If-None-Match (RFC 9110 section 13.1.2): "*" or any listed entity tag, compared weakly.
    /// </summary>
    internal bool MatchesIfNoneMatch(string ifNoneMatch)
    {
        if (ETag is null)
        {
            return false;
        }
        var own = Opaque(ETag);
        foreach (var range in ifNoneMatch.AsSpan().Split(','))
        {
            var tag = ifNoneMatch.AsSpan()[range].Trim();
            if (tag.SequenceEqual("*") || Opaque(tag).SequenceEqual(own))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>If-Modified-Since (RFC 9110 section 13.1.3): not modified when Last-Modified is not later.</summary>
    internal bool NotModifiedSince(string ifModifiedSince) =>
        LastModified is { } lastModified
        && DateTimeOffset.TryParseExact(ifModifiedSince, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
        && lastModified <= since;

    private static ReadOnlySpan<char> Opaque(ReadOnlySpan<char> tag) => tag.StartsWith("W/") ? tag[2..] : tag;
}
