using System.Collections.Concurrent;

namespace HttpSysLite.Transport.Caching;

/// <summary>
/// The kernel-style response cache: one per driver, consulted right after a request head is parsed,
/// before routing, so a hit never reaches a request queue or an app. Entries leave on expiry, when
/// not hit for a <see cref="ScavengerPeriod"/>, least-recently-used first when over
/// <see cref="MaxBytes"/>, on an unsafe method to their URL, and on an explicit flush. Lookups take no
/// lock and allocate nothing.
/// </summary>
public sealed class ResponseCache : IDisposable
{
    /// <summary>HTTP.sys's UriMaxUriBytes default: responses up to 256 KiB are cached.</summary>
    public const int DefaultMaxEntryBytes = 256 * 1024;

    /// <summary>The whole cache's default bound (HTTP.sys sizes its cache from memory; we pick a fixed default).</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>HTTP.sys's UriScavengerPeriod default: 120 seconds.</summary>
    public static readonly TimeSpan DefaultScavengerPeriod = TimeSpan.FromSeconds(120);

    private readonly ConcurrentDictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CacheEntry>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly object _storeGate = new(); // orders stores and evictions; never taken by a hit
    private readonly MillisecondClock _clock;
    private ITimer? _scavenger;
    private TimeSpan _scavengerPeriod = DefaultScavengerPeriod;
    private int _count;
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _stores;
    private long _evictions;
    private long _uses;
    private ResponseCacheSettings? _settings;
    private int _settingsHolders;

    /// <summary>Creates an empty cache on the system clock.</summary>
    public ResponseCache()
        : this(MillisecondClock.System)
    {
    }

    /// <summary>Creates an empty cache whose lifetimes and scavenger run on <paramref name="clock"/> (the driver's).</summary>
    internal ResponseCache(MillisecondClock clock)
    {
        _clock = clock;
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The bound on all entries' bytes; beyond it the least recently used go.</summary>
    public long MaxBytes { get; set; } = DefaultMaxBytes;

    /// <summary>The largest response stored.</summary>
    public int MaxEntryBytes { get; set; } = DefaultMaxEntryBytes;

    /// <summary>An entry not hit for this long is removed.</summary>
    public TimeSpan ScavengerPeriod
    {
        get => _scavengerPeriod;
        set
        {
            _scavengerPeriod = value;
            lock (_storeGate)
            {
                _scavenger?.Change(Half(value), Half(value));
            }
        }
    }

    /// <summary>Adds "X-HttpSysLite-Cache: HIT" to answers from the cache (debugging only; off by default).</summary>
    public bool AddHitHeader { get; set; }

    /// <summary>
    /// Applies <paramref name="settings"/> for a server that starts on this cache's driver, unless another
    /// server holds other settings: false then (nothing changes; the caller says so in its log). Each
    /// true is matched by a <see cref="ReleaseSettings"/> when that server stops; once none holds them,
    /// the next server's settings apply.
    /// </summary>
    public bool TryApplySettings(ResponseCacheSettings settings)
    {
        lock (_storeGate)
        {
            if (_settingsHolders > 0 && _settings != settings)
            {
                return false;
            }
            _settingsHolders++;
            if (_settings != settings)
            {
                _settings = settings;
                MaxBytes = settings.MaxBytes;
                MaxEntryBytes = settings.MaxEntryBytes;
                ScavengerPeriod = settings.ScavengerPeriod;
                AddHitHeader = settings.AddHitHeader;
            }
            return true;
        }
    }

    /// <summary>A server whose settings applied has stopped.</summary>
    public void ReleaseSettings()
    {
        lock (_storeGate)
        {
            _settingsHolders--;
        }
    }

    /// <summary>Entries now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Bytes held now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Requests answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Cacheable requests the cache could not answer.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Responses stored.</summary>
    public long Stores => Interlocked.Read(ref _stores);

    /// <summary>Entries removed before a replacement (expiry, scavenger, size, invalidation, flush).</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    internal bool IsEmpty => Volatile.Read(ref _count) == 0;

    /// <summary>The cache's clock (the driver's): what entry lifetimes and ages are measured on.</summary>
    internal long Now => _clock.Now;

    /// <summary>The fresh entry for <paramref name="key"/>, or null. Counts a hit or a miss.</summary>
    public CacheEntry? Lookup(ReadOnlySpan<char> key)
    {
        if (_lookup.TryGetValue(key, out var entry))
        {
            long now = _clock.Now;
            if (now < entry.ExpiresAt && now - entry.LastHit < (long)_scavengerPeriod.TotalMilliseconds)
            {
                entry.Touch(now, Interlocked.Increment(ref _uses));
                Interlocked.Increment(ref _hits);
                return entry;
            }
            Remove(entry);
        }
        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>Stores (or replaces) an entry, then trims least-recently-used entries over <see cref="MaxBytes"/>.</summary>
    public void Store(CacheEntry entry)
    {
        if (entry.Size > MaxEntryBytes * 2L + 4096 || entry.Size > MaxBytes)
        {
            return;
        }
        lock (_storeGate)
        {
            _scavenger ??= _clock.Time.CreateTimer(static state => ((ResponseCache)state!).Scavenge(), this, Half(_scavengerPeriod), Half(_scavengerPeriod));
            if (_entries.TryGetValue(entry.Key, out var old))
            {
                Remove(old);
            }
            entry.OnStored(_clock.Now, Interlocked.Increment(ref _uses));
            if (_entries.TryAdd(entry.Key, entry))
            {
                Interlocked.Increment(ref _count);
                Interlocked.Add(ref _bytes, entry.Size);
                Interlocked.Increment(ref _stores);
            }
            while (Interlocked.Read(ref _bytes) > MaxBytes && LeastRecentlyUsed(except: entry) is { } victim)
            {
                Remove(victim);
            }
        }
    }

    /// <summary>Removes the entry for one key (an unsafe method reached its URL, RFC 9111 section 4.4).</summary>
    public void Invalidate(ReadOnlySpan<char> key)
    {
        if (_lookup.TryGetValue(key, out var entry))
        {
            Remove(entry);
        }
    }

    /// <summary>
    /// Flushes by URL (http[s]://host:port/path[?query]), or every URL under it when
    /// <paramref name="recursive"/> — as `netsh http delete cache url= recursive=yes` does. Returns how
    /// many entries went.
    /// </summary>
    public int Flush(string url, bool recursive)
    {
        ArgumentNullException.ThrowIfNull(url);
        string key = NormalizeUrl(url);
        int removed = 0;
        foreach (var pair in _entries)
        {
            if (recursive ? pair.Key.StartsWith(key, StringComparison.Ordinal) : pair.Key == key)
            {
                removed += Remove(pair.Value) ? 1 : 0;
            }
        }
        return removed;
    }

    /// <summary>The entries now, with the seconds each has left (for `show cachestate`); a copy.</summary>
    public IReadOnlyList<(CacheEntry Entry, long SecondsLeft)> Snapshot()
    {
        long now = _clock.Now;
        var entries = new List<(CacheEntry, long)>();
        foreach (var pair in _entries)
        {
            long left = pair.Value.ExpiresAt == long.MaxValue ? long.MaxValue : Math.Max(0, (pair.Value.ExpiresAt - now) / 1000);
            entries.Add((pair.Value, left));
        }
        entries.Sort(static (a, b) => string.CompareOrdinal(a.Item1.Key, b.Item1.Key));
        return entries;
    }

    /// <summary>Removes everything an owner stored (its prefixes are going away).</summary>
    public void RemoveOwnedBy(object owner)
    {
        foreach (var pair in _entries)
        {
            if (ReferenceEquals(pair.Value.Owner, owner))
            {
                Remove(pair.Value);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_storeGate)
        {
            _scavenger?.Dispose();
            _scavenger = null;
        }
    }

    /// <summary>
    /// Builds the key "http://host:port" + path + query into <paramref name="destination"/>: the host
    /// lowercased, its port added when the Host had none. Returns the length, or -1 if it does not fit.
    /// </summary>
    public static int WriteKey(Span<char> destination, ReadOnlySpan<char> host, int localPort, ReadOnlySpan<char> path, ReadOnlySpan<char> query,
        bool https = false)
    {
        int close = host.LastIndexOf(']');
        bool hasPort = host.LastIndexOf(':') > close && (close >= 0 || host.IndexOf(':') == host.LastIndexOf(':'));
        Span<char> port = stackalloc char[6];
        int portLength = 0;
        if (!hasPort)
        {
            port[0] = ':';
            localPort.TryFormat(port[1..], out portLength, default, System.Globalization.CultureInfo.InvariantCulture);
            portLength++;
        }
        // The scheme is part of the key: a Host that names another port must never let a response
        // stored over TLS answer a plain request, or the other way round.
        ReadOnlySpan<char> scheme = https ? "https://" : "http://";
        int length = scheme.Length + host.Length + portLength + path.Length + query.Length;
        if (length > destination.Length)
        {
            return -1;
        }
        scheme.CopyTo(destination);
        int at = scheme.Length;
        at += host.ToLowerInvariant(destination[at..]);
        port[..portLength].CopyTo(destination[at..]);
        at += portLength;
        path.CopyTo(destination[at..]);
        at += path.Length;
        query.CopyTo(destination[at..]);
        return length;
    }

    /// <summary>A URL as a key: the host lowercased and always with its port, the path unescaped, the query as is.</summary>
    private static string NormalizeUrl(string url)
    {
        var uri = new Uri(url, UriKind.Absolute);
        return $"{uri.Scheme}://{uri.Host.ToLowerInvariant()}:{uri.Port}{Uri.UnescapeDataString(uri.AbsolutePath)}{uri.Query}";
    }

    private bool Remove(CacheEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry)))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _bytes, -entry.Size);
            Interlocked.Increment(ref _evictions);
            var log = Diagnostics.HttpSysLiteEventSource.Log;
            if (log.IsEnabled())
            {
                log.FlushedCache(entry.Key);
            }
            return true;
        }
        return false;
    }

    private CacheEntry? LeastRecentlyUsed(CacheEntry except)
    {
        CacheEntry? oldest = null;
        foreach (var pair in _entries)
        {
            if (!ReferenceEquals(pair.Value, except) && (oldest is null || pair.Value.LastUse < oldest.LastUse))
            {
                oldest = pair.Value;
            }
        }
        return oldest;
    }

    private void Scavenge()
    {
        long now = _clock.Now;
        long idle = (long)_scavengerPeriod.TotalMilliseconds;
        foreach (var pair in _entries)
        {
            if (now >= pair.Value.ExpiresAt || now - pair.Value.LastHit >= idle)
            {
                Remove(pair.Value);
            }
        }
    }

    private static TimeSpan Half(TimeSpan period) => period / 2 > TimeSpan.FromMilliseconds(50) ? period / 2 : TimeSpan.FromMilliseconds(50);
}
