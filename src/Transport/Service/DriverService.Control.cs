using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The administration verbs (netsh http's, as `httpsyslite VERB`), run for a client on the driver's
/// socket. Showing is open to every user, as with netsh; a change needs root, or, to delete a
/// reservation, the user it grants. Bad input changes nothing and says what is wrong.
/// </summary>
public sealed partial class DriverService
{
    internal ControlReply Control(ServiceChannel channel, ControlRequest request)
    {
        uint uid = channel.Peer?.UserId ?? 0;
        try
        {
            return request.Verb switch
            {
                "urlacl add" => AddReservation(request, uid),
                "urlacl delete" => DeleteReservation(request, uid),
                "show urlacl" => ShowReservations(request),
                "show servicestate" => ShowServiceState(),
                "sslcert add" => AddCertificate(request, uid),
                "sslcert delete" => DeleteCertificate(request, uid),
                "show sslcert" => ShowCertificates(),
                "show cachestate" => ShowCache(request),
                "delete cache" => DeleteCache(request, uid),
                "show iplisten" => ShowListenList(),
                "add iplisten" => ChangeListenList(request, uid, add: true),
                "delete iplisten" => ChangeListenList(request, uid, add: false),
                _ => new ControlReply { Error = $"Unknown verb '{request.Verb}'. The verbs: urlacl add, urlacl delete, show urlacl, sslcert add, sslcert delete, show sslcert, show servicestate, show cachestate, delete cache, show iplisten, add iplisten, delete iplisten." },
            };
        }
        catch (Exception ex) when (ex is ArgumentException or UnauthorizedAccessException or IOException or InvalidOperationException)
        {
            return new ControlReply { Error = ex.Message };
        }
    }

    private ControlReply AddReservation(ControlRequest request, uint uid)
    {
        RequireRoot(uid, "add a URL reservation");
        var added = Reservations.Add(Required(request, "url"), Optional(request, "user"), Optional(request, "group"));
        Message?.Invoke($"URL reservation added: {added.Url} for {added.Principal}.");
        return new ControlReply { Text = $"URL reservation added: {added.Url} for {added.Principal}.", Data = ReservationNode(added) };
    }

    private ControlReply DeleteReservation(ControlRequest request, uint uid)
    {
        var removed = Reservations.Delete(Required(request, "url"), reservation => uid == 0 || reservation.Uid == uid);
        Message?.Invoke($"URL reservation deleted: {removed.Url} ({removed.Principal}).");
        return new ControlReply { Text = $"URL reservation deleted: {removed.Url} ({removed.Principal}).", Data = ReservationNode(removed) };
    }

    private ControlReply ShowReservations(ControlRequest request)
    {
        string? only = Optional(request, "url");
        var text = new StringBuilder("URL Reservations:\n-----------------\n");
        var list = new JsonArray();
        foreach (var reservation in Reservations.List())
        {
            if (only is not null && !string.Equals(reservation.Url, Routing.UrlPrefix.Create(only).FullPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            text.Append(CultureInfo.InvariantCulture, $"\n    Reserved URL : {reservation.Url}\n");
            if (reservation.User is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"        User: {reservation.User} (uid {reservation.Uid})\n");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"        Group: {reservation.Group} (gid {reservation.Gid})\n");
            }
            list.Add(ReservationNode(reservation));
        }
        return new ControlReply { Text = text.ToString(), Data = list };
    }

    /// <summary>netsh http show servicestate: queues with their processes and prefixes, requests and connections.</summary>
    private ControlReply ShowServiceState()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Snapshot of the HttpSysLite driver (pid {Environment.ProcessId}) at {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\n");
        var queues = new JsonArray();
        lock (_sync)
        {
            foreach (var (queue, membership) in _queues)
            {
                string name = queue.Name ?? "(anonymous)";
                text.Append(CultureInfo.InvariantCulture, $"\nRequest queue: {name}\n");
                var processes = new JsonArray();
                int active = 0;
                foreach (var channel in _channels)
                {
                    if (!ReferenceEquals(channel.Queue, queue))
                    {
                        continue;
                    }
                    active += channel.ActiveRequests;
                    var peer = channel.Peer;
                    processes.Add(new JsonObject
                    {
                        ["pid"] = peer?.ProcessId,
                        ["uid"] = peer?.UserId,
                        ["user"] = peer is { } p ? UnixAccounts.UserName(p.UserId) : null,
                        ["activeRequests"] = channel.ActiveRequests,
                    });
                }
                text.Append(CultureInfo.InvariantCulture, $"    Processes: {processes.Count}\n");
                foreach (var process in processes)
                {
                    text.Append(CultureInfo.InvariantCulture, $"        pid {process!["pid"]}, uid {process["uid"]} ({process["user"]}), {process["activeRequests"]} active request(s)\n");
                }
                text.Append(CultureInfo.InvariantCulture, $"    Active requests: {active}\n    Waiting requests: {queue.WaitingCount}\n");
                var prefixes = new JsonArray();
                if (membership.Group is { } group)
                {
                    text.Append(CultureInfo.InvariantCulture, $"    URL group {group.Id}:\n");
                    foreach (var prefix in group.Prefixes)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"        {prefix.FullPrefix}\n");
                        prefixes.Add(prefix.FullPrefix);
                    }
                }
                queues.Add(new JsonObject
                {
                    ["name"] = queue.Name,
                    ["processes"] = processes,
                    ["activeRequests"] = active,
                    ["waitingRequests"] = queue.WaitingCount,
                    ["urlGroup"] = membership.Group is { } g ? new JsonObject { ["id"] = g.Id, ["prefixes"] = prefixes } : null,
                });
            }
        }
        int connections = _driver.ConnectionCount;
        text.Append(CultureInfo.InvariantCulture, $"\nConnections: {connections}\n");
        return new ControlReply
        {
            Text = text.ToString(),
            Data = new JsonObject { ["pid"] = Environment.ProcessId, ["requestQueues"] = queues, ["connections"] = connections },
        };
    }

    /// <summary>netsh http add sslcert: ipport=, hostnameport= or ccs= (with dir=), and certfile=, keyfile=, password=.</summary>
    private ControlReply AddCertificate(ControlRequest request, uint uid)
    {
        RequireRoot(uid, "add a certificate binding");
        var entry = EntryOf(request, withFiles: true);
        string name = $"sslcert {entry.Endpoint}";
        entry.CheckKeyIsPrivate(name);
        var binding = entry.ToBinding(name);
        lock (_sslEntries)
        {
            if (_sslEntries.Exists(e => e.Binding.SameEndpoint(binding)))
            {
                throw new ArgumentException($"{entry.Endpoint} has a certificate binding already. Delete it first: httpsyslite sslcert delete {entry.Endpoint}");
            }
            _driver.Certificates.Set(binding); // loads and checks the certificate: refused whole if it cannot serve
            _sslEntries.Add((entry, binding));
        }
        SaveConfig();
        Message?.Invoke($"Certificate binding added: {entry.Endpoint}.");
        return new ControlReply { Text = $"Certificate binding added: {entry.Endpoint}.", Data = CertificateNode(entry) };
    }

    private ControlReply DeleteCertificate(ControlRequest request, uint uid)
    {
        RequireRoot(uid, "delete a certificate binding");
        var entry = EntryOf(request, withFiles: false);
        var binding = entry.ToBinding($"sslcert {entry.Endpoint}");
        lock (_sslEntries)
        {
            int index = _sslEntries.FindIndex(e => e.Binding.SameEndpoint(binding));
            if (index < 0)
            {
                throw new ArgumentException($"{entry.Endpoint} has no certificate binding (httpsyslite show sslcert lists them).");
            }
            _driver.Certificates.Remove(_sslEntries[index].Binding);
            _sslEntries.RemoveAt(index);
        }
        SaveConfig();
        Message?.Invoke($"Certificate binding deleted: {entry.Endpoint}.");
        return new ControlReply { Text = $"Certificate binding deleted: {entry.Endpoint}." };
    }

    private ControlReply ShowCertificates()
    {
        var text = new StringBuilder("SSL Certificate bindings:\n-------------------------\n");
        var list = new JsonArray();
        lock (_sslEntries)
        {
            foreach (var (entry, _) in _sslEntries)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n    {entry.Endpoint}\n");
                if (entry.Directory is not null)
                {
                    text.Append(CultureInfo.InvariantCulture, $"        Central store : {entry.Directory}\n");
                }
                else
                {
                    text.Append(CultureInfo.InvariantCulture, $"        Certificate   : {entry.Path}\n        Key           : {entry.KeyPath ?? "(in the certificate file)"}\n");
                }
                list.Add(CertificateNode(entry));
            }
        }
        return new ControlReply { Text = text.ToString(), Data = list };
    }

    /// <summary>netsh http show cachestate: each stored response, its status, size and time left.</summary>
    private ControlReply ShowCache(ControlRequest request)
    {
        string? only = Optional(request, "url");
        var cache = _driver.Cache;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Response cache: {cache.Count} entries, {cache.Bytes} bytes; {cache.Hits} hits, {cache.Misses} misses\n");
        var list = new JsonArray();
        foreach (var (entry, left) in cache.Snapshot())
        {
            if (only is not null && !entry.Key.StartsWith(only, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            string ttl = left == long.MaxValue ? "no expiry" : $"{left} s";
            text.Append(CultureInfo.InvariantCulture, $"\n    URL: {entry.Key}\n        Status: {entry.StatusCode}  Size: {entry.Size} bytes  Time to live: {ttl}\n");
            list.Add(new JsonObject { ["url"] = entry.Key, ["status"] = entry.StatusCode, ["bytes"] = entry.Size, ["secondsLeft"] = left == long.MaxValue ? null : left });
        }
        return new ControlReply
        {
            Text = text.ToString(),
            Data = new JsonObject { ["entries"] = list, ["count"] = cache.Count, ["bytes"] = cache.Bytes, ["hits"] = cache.Hits, ["misses"] = cache.Misses },
        };
    }

    /// <summary>netsh http delete cache url= [recursive=yes]: flushes one URL, or every URL under it.</summary>
    private ControlReply DeleteCache(ControlRequest request, uint uid)
    {
        RequireRoot(uid, "flush the response cache");
        string url = Required(request, "url");
        bool recursive = Optional(request, "recursive") is { } value && (value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value == "true");
        int removed = _driver.Cache.Flush(url, recursive);
        Message?.Invoke($"Response cache flushed for {url}{(recursive ? " and below" : "")}: {removed} entries.");
        return new ControlReply { Text = $"{removed} cache entries removed.", Data = new JsonObject { ["removed"] = removed } };
    }

    /// <summary>netsh http show iplisten: the only addresses the driver binds (none listed: all of them).</summary>
    private ControlReply ShowListenList()
    {
        var list = new JsonArray();
        var text = new StringBuilder("IP listen list:\n---------------\n");
        foreach (var address in _driver.ListenAddresses)
        {
            text.Append(CultureInfo.InvariantCulture, $"    {address}\n");
            list.Add(address.ToString());
        }
        if (list.Count == 0)
        {
            text.Append("    (empty: the driver binds every address)\n");
        }
        return new ControlReply { Text = text.ToString(), Data = list };
    }

    /// <summary>netsh http add/delete iplisten ipaddress=: applies to ports bound from now on.</summary>
    private ControlReply ChangeListenList(ControlRequest request, uint uid, bool add)
    {
        RequireRoot(uid, add ? "add to the IP listen list" : "delete from the IP listen list");
        string text = Required(request, "ipaddress");
        if (!System.Net.IPAddress.TryParse(text, out var address))
        {
            throw new ArgumentException($"ipaddress={text} is not an IP address (such as 127.0.0.1, 10.1.2.3 or ::1).");
        }
        lock (_sync)
        {
            var list = new List<System.Net.IPAddress>(_driver.ListenAddresses);
            int index = list.FindIndex(a => a.Equals(address));
            if (add == (index >= 0))
            {
                throw new ArgumentException(add ? $"{address} is in the IP listen list already." : $"{address} is not in the IP listen list.");
            }
            if (add)
            {
                list.Add(address);
            }
            else
            {
                list.RemoveAt(index);
            }
            _driver.ListenAddresses = list;
        }
        SaveConfig();
        string done = $"{address} {(add ? "added to" : "deleted from")} the IP listen list; it applies to ports bound from now on (an open port keeps its sockets until it closes).";
        Message?.Invoke(done);
        return new ControlReply { Text = done };
    }

    private static SslCertificateEntry EntryOf(ControlRequest request, bool withFiles)
    {
        int? ccs = null;
        if (Optional(request, "ccs") is { } port)
        {
            ccs = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed is > 0 and < 65536
                ? parsed
                : throw new ArgumentException($"ccs={port} is not a port.");
        }
        var entry = new SslCertificateEntry
        {
            IpPort = Optional(request, "ipport"),
            HostnamePort = Optional(request, "hostnameport"),
            CentralStorePort = ccs,
            Path = withFiles ? FullPath(Optional(request, "certfile")) : null,
            KeyPath = withFiles ? FullPath(Optional(request, "keyfile")) : null,
            Password = withFiles ? Optional(request, "password") : null,
            Directory = withFiles ? FullPath(Optional(request, "dir")) : null,
        };
        if (withFiles && entry.CentralStorePort is null && entry.Path is null)
        {
            throw new ArgumentException("certfile= is required (with keyfile= for a PEM whose key is apart, or password= for a PFX).");
        }
        if (withFiles && entry.CentralStorePort is not null && entry.Directory is null)
        {
            throw new ArgumentException("ccs= needs dir=, the directory of host.pfx, or host.pem with host.key, files.");
        }
        return entry;
    }

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    private static JsonObject CertificateNode(SslCertificateEntry entry) => new()
    {
        ["endpoint"] = entry.Endpoint,
        ["certificate"] = entry.Path,
        ["key"] = entry.KeyPath,
        ["directory"] = entry.Directory,
    };

    private static JsonObject ReservationNode(UrlReservation reservation) => new()
    {
        ["url"] = reservation.Url,
        ["user"] = reservation.User,
        ["uid"] = reservation.Uid,
        ["group"] = reservation.Group,
        ["gid"] = reservation.Gid,
    };

    private static void RequireRoot(uint uid, string what)
    {
        if (uid != 0)
        {
            throw new UnauthorizedAccessException($"Only root may {what} (you are uid {uid}, {UnixAccounts.UserName(uid)}). Run the command with sudo.");
        }
    }

    private static string Required(ControlRequest request, string key) =>
        request.Arguments.TryGetValue(key, out string? value) && value.Length > 0 ? value : throw new ArgumentException($"{key}= is required.");

    private static string? Optional(ControlRequest request, string key) =>
        request.Arguments.TryGetValue(key, out string? value) && value.Length > 0 ? value : null;
}
