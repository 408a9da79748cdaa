namespace HttpSysLite.Transport.Routing;

/// <summary>
/// A set of URL prefixes bound to one request queue: HTTP.sys's URL group. A server owns one; its
/// prefixes are registered with the driver, which binds the ports they need.
/// </summary>
public sealed class UrlGroup : IDisposable
{
    private readonly HttpDriver _driver;
    private readonly List<PrefixRegistration> _registrations = new();

    /// <summary>Creates an empty group delivering to <paramref name="queue"/>.</summary>
    public UrlGroup(HttpDriver driver, RequestQueue queue)
    {
        _driver = driver;
        Queue = queue;
    }

    private static ulong s_lastId;

    /// <summary>The group's id (HTTP.sys's HTTP_URL_GROUP_ID), as AddUrl and RemUrl report it.</summary>
    public ulong Id { get; } = Interlocked.Increment(ref s_lastId);

    /// <summary>Where this group's requests go.</summary>
    public RequestQueue Queue { get; }

    /// <summary>A name for errors and logs (the owning server's description).</summary>
    public string Owner { get; init; } = "a server";

    /// <summary>
    /// The connection settings for ports this group opens. A port already open keeps the settings it
    /// was opened with (see <see cref="HttpDriver.SettingsOf"/>).
    /// </summary>
    public ConnectionSettings Settings { get; init; } = ConnectionSettings.Default;

    /// <summary>The prefixes registered now (for `show servicestate`).</summary>
    public UrlPrefix[] Prefixes
    {
        get
        {
            lock (_registrations)
            {
                var prefixes = new UrlPrefix[_registrations.Count];
                for (int i = 0; i < prefixes.Length; i++)
                {
                    prefixes[i] = _registrations[i].Prefix;
                }
                return prefixes;
            }
        }
    }

    /// <summary>Registers a prefix (binding its port if needed) and returns it with its real port.</summary>
    /// <exception cref="InvalidOperationException">Another group holds the same prefix, or the port cannot be bound.</exception>
    public UrlPrefix AddPrefix(UrlPrefix prefix)
    {
        var registration = _driver.Register(this, prefix);
        lock (_registrations)
        {
            _registrations.Add(registration);
        }
        var log = Diagnostics.HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.AddUrl(Id, registration.Prefix.FullPrefix);
        }
        return registration.Prefix;
    }

    /// <summary>Releases one registered prefix (as returned by <see cref="AddPrefix"/>); new requests stop matching it.</summary>
    public void RemovePrefix(UrlPrefix registered)
    {
        PrefixRegistration? registration;
        lock (_registrations)
        {
            registration = _registrations.Find(r => ReferenceEquals(r.Prefix, registered));
            if (registration is null)
            {
                return;
            }
            _registrations.Remove(registration);
        }
        _driver.Unregister([registration]);
        ReportRemoved(registration);
        _driver.Cache.RemoveOwnedBy(this);
    }

    /// <summary>Releases every prefix; ports no one else uses are closed.</summary>
    public void Dispose()
    {
        PrefixRegistration[] all;
        lock (_registrations)
        {
            all = _registrations.ToArray();
            _registrations.Clear();
        }
        if (all.Length > 0)
        {
            _driver.Unregister(all);
            foreach (var registration in all)
            {
                ReportRemoved(registration);
            }
        }
        _driver.Cache.RemoveOwnedBy(this); // cached answers must not outlive the prefixes that made them
    }

    /// <summary>Aborts the connections whose request in flight belongs to this group (a stop past its deadline).</summary>
    public void AbortActiveRequests() => _driver.AbortRequestsOf(this);

    private void ReportRemoved(PrefixRegistration registration)
    {
        var log = Diagnostics.HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.RemUrl(Id, registration.Prefix.FullPrefix);
        }
    }
}
