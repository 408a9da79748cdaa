using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The driver's URL namespace reservations (HTTP.sys's urlacl), the one owner of them. A process may
/// register a prefix only if it runs as root (uid 0, as administrators may on Windows; a capability
/// such as CAP_NET_ADMIN does not count), or a reservation covers the prefix and grants its uid or one
/// of its groups. A reservation covers a prefix on its scheme and port whose path is at or below the
/// reservation's, by whole segments; a wildcard host (+ or *) covers every host, a named one only
/// itself. Safe from any thread.
/// </summary>
public sealed class UrlReservations
{
    private readonly object _sync = new();
    private readonly List<UrlReservation> _reservations = new();

    /// <summary>Fires after each change, with the reservations now in force (the driver persists them).</summary>
    public event Action<IReadOnlyList<UrlReservation>>? Changed;

    /// <summary>The reservations now, in the order they were added.</summary>
    public IReadOnlyList<UrlReservation> List()
    {
        lock (_sync)
        {
            return [.. _reservations];
        }
    }

    /// <summary>Replaces every reservation with <paramref name="loaded"/> (from the driver's config, checked first).</summary>
    /// <exception cref="ArgumentException">An entry is not a valid reservation; nothing changes.</exception>
    public void Load(IEnumerable<UrlReservation> loaded)
    {
        var checkedList = new List<UrlReservation>();
        foreach (var reservation in loaded)
        {
            var prefix = ParseUrl(reservation.Url);
            if ((reservation.Uid is null) == (reservation.Gid is null))
            {
                throw new ArgumentException($"The reservation for {reservation.Url} must name one user (uid) or one group (gid).");
            }
            if (checkedList.Exists(r => SameUrl(r.Url, prefix)))
            {
                throw new ArgumentException($"{reservation.Url} is reserved twice.");
            }
            checkedList.Add(reservation with { Url = prefix.FullPrefix });
        }
        lock (_sync)
        {
            _reservations.Clear();
            _reservations.AddRange(checkedList);
        }
    }

    /// <summary>
    /// Adds a reservation of <paramref name="url"/> for the local user <paramref name="user"/> or group
    /// <paramref name="group"/> (`httpsyslite urlacl add`).
    /// </summary>
    /// <exception cref="ArgumentException">A malformed URL, an unknown user or group, neither or both given, or a duplicate; nothing changes.</exception>
    public UrlReservation Add(string url, string? user, string? group)
    {
        var prefix = ParseUrl(url);
        if ((user is null) == (group is null))
        {
            throw new ArgumentException("Give one of user=NAME or group=NAME.");
        }
        UrlReservation reservation;
        if (user is not null)
        {
            if (!UnixAccounts.TryGetUser(user, out uint uid, out _))
            {
                throw new ArgumentException($"There is no local user '{user}' (/etc/passwd).");
            }
            reservation = new UrlReservation { Url = prefix.FullPrefix, User = user, Uid = uid };
        }
        else
        {
            if (!UnixAccounts.TryGetGroup(group!, out uint gid))
            {
                throw new ArgumentException($"There is no local group '{group}' (/etc/group).");
            }
            reservation = new UrlReservation { Url = prefix.FullPrefix, Group = group, Gid = gid };
        }
        IReadOnlyList<UrlReservation> now;
        lock (_sync)
        {
            if (_reservations.Find(r => SameUrl(r.Url, prefix)) is { } existing)
            {
                // netsh: "Error: 183 Cannot create a file when that file already exists."
                throw new ArgumentException($"{prefix.FullPrefix} is reserved already ({existing.Principal}). Delete that reservation first: httpsyslite urlacl delete url={prefix.FullPrefix}");
            }
            _reservations.Add(reservation);
            now = [.. _reservations];
        }
        Changed?.Invoke(now);
        return reservation;
    }

    /// <summary>Removes the reservation of exactly <paramref name="url"/> (`httpsyslite urlacl delete`).</summary>
    /// <exception cref="ArgumentException">A malformed URL, or no reservation of it; nothing changes.</exception>
    public UrlReservation Delete(string url, Func<UrlReservation, bool>? mayDelete = null)
    {
        var prefix = ParseUrl(url);
        IReadOnlyList<UrlReservation> now;
        UrlReservation removed;
        lock (_sync)
        {
            int index = _reservations.FindIndex(r => SameUrl(r.Url, prefix));
            if (index < 0)
            {
                throw new ArgumentException($"{prefix.FullPrefix} has no reservation (httpsyslite show urlacl lists them).");
            }
            removed = _reservations[index];
            if (mayDelete is not null && !mayDelete(removed))
            {
                throw new UnauthorizedAccessException($"Only root or the reservation's user may delete the reservation of {removed.Url} ({removed.Principal}).");
            }
            _reservations.RemoveAt(index);
            now = [.. _reservations];
        }
        Changed?.Invoke(now);
        return removed;
    }

    /// <summary>
    /// Null when the process (<paramref name="uid"/>, in <paramref name="groups"/>) may register
    /// <paramref name="prefix"/>; else why not, naming the prefix, the user and the command that would allow it.
    /// </summary>
    public string? Check(UrlPrefix prefix, uint uid, IReadOnlyList<uint> groups)
    {
        if (uid == 0)
        {
            return null;
        }
        lock (_sync)
        {
            foreach (var reservation in _reservations)
            {
                if (Covers(UrlPrefix.Create(reservation.Url), prefix)
                    && (reservation.Uid == uid || reservation.Gid is uint gid && groups.Contains(gid)))
                {
                    return null;
                }
            }
        }
        string user = UnixAccounts.UserName(uid);
        return $"Access denied (HTTP.sys: ERROR_ACCESS_DENIED): user '{user}' (uid {uid}) may not register {prefix.FullPrefix}: no URL reservation covers it for that user or its groups. "
            + $"As root, run: httpsyslite urlacl add url={prefix.FullPrefix} user={user}";
    }

    /// <summary>True when <paramref name="reserved"/> covers <paramref name="prefix"/> (see the class summary).</summary>
    public static bool Covers(UrlPrefix reserved, UrlPrefix prefix) =>
        reserved.Scheme == prefix.Scheme && reserved.Port == prefix.Port
        && (reserved.HostKind is UrlPrefixHostKind.StrongWildcard or UrlPrefixHostKind.WeakWildcard
            || reserved.HostKind == prefix.HostKind && string.Equals(reserved.Host, prefix.Host, StringComparison.OrdinalIgnoreCase))
        && PrefixTable.PathMatches(reserved.Path, prefix.Path);

    private static bool SameUrl(string url, UrlPrefix prefix) => UrlPrefix.Create(url).IsSameAs(prefix) && UrlPrefix.Create(url).Scheme == prefix.Scheme;

    private static UrlPrefix ParseUrl(string url)
    {
        try
        {
            return UrlPrefix.Create(url);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(url), ex);
        }
    }
}
