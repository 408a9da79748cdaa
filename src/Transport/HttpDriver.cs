using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport;

/// <summary>
/// The user-mode "http.sys": one per process. It owns the listening sockets (one bind per port), the
/// prefix table, and the connections. Registration is rare and takes a lock; the request path reads
/// an immutable table snapshot and takes none.
/// </summary>
public sealed class HttpDriver : IDisposable
{
    private static ulong s_lastConnectionId;

    private readonly object _sync = new();
    private readonly Dictionary<int, List<ConnectionListener>> _listeners = new();
    private readonly List<PrefixRegistration> _registrations = new();
    private readonly ConnectionTable<HttpConnection> _connections = new();
    private readonly Dictionary<string, RequestQueue> _namedQueues = new(StringComparer.OrdinalIgnoreCase);
    private volatile PrefixTable _table = PrefixTable.Empty;
    private readonly Heartbeat _heartbeat;
    private readonly TransportFactory _transport;
    private ConnectionListener.AcceptedHandler? _onAccepted;
    private long _nextTrim;
    private readonly Buffers.MemoryRelease _memoryRelease = new(); // the heartbeat's: a GC after many connections close or go idle

    /// <summary>
    /// Creates a driver with no ports, on the platform's transport, whose deadlines read
    /// <paramref name="timeProvider"/> (the system clock when null). Servers share <see cref="Shared"/>;
    /// a test that registers its own driver as a service gets a server on that one.
    /// </summary>
    public HttpDriver(TimeProvider? timeProvider = null)
        : this(TransportFactory.Default, timeProvider)
    {
    }

    /// <summary>A driver on <paramref name="transport"/> (tests: .NET's socket engine on Linux, or an in-memory transport).</summary>
    internal HttpDriver(TransportFactory transport, TimeProvider? timeProvider = null)
    {
        _transport = transport;
        Clock = timeProvider is null ? MillisecondClock.System : new MillisecondClock(timeProvider);
        _heartbeat = new Heartbeat(Clock, OnHeartbeat);
        Cache = new Caching.ResponseCache(Clock);
        Certificates = new Tls.CertificateBindings(Clock);
        // A renewal that cannot load keeps the working certificate; the operator must still hear of it.
        Certificates.LoadFailed += (endpoint, ex) =>
            ReportTlsFailure($"The certificate of {endpoint} changed on disk but could not be loaded; the previous one still serves: {ex.Message}");
    }

    /// <summary>The clock every deadline of this driver reads.</summary>
    internal MillisecondClock Clock { get; }

    /// <summary>The process-wide driver, shared by every server in the process (several apps, one port).</summary>
    public static HttpDriver Shared { get; } = CreateShared();

    private static HttpDriver CreateShared()
    {
        var driver = new HttpDriver();
        Diagnostics.HttpSysLiteMeter.Register(driver);
        return driver;
    }

    /// <summary>The kernel-style response cache, shared by every server in the process.</summary>
    public Caching.ResponseCache Cache { get; }

    /// <summary>The SSL certificate bindings of this driver's TLS ports (HTTP.sys's sslcert table), shared by its servers.</summary>
    public Tls.CertificateBindings Certificates { get; }

    /// <summary>Called with a TLS failure the operator can fix, such as a handshake no binding covers (the server logs it).</summary>
    public event Action<string>? TlsFailure;

    private void ReportTlsFailure(string message) => TlsFailure?.Invoke(message);

    /// <summary>Called with unexpected exceptions from connection loops (the server logs them).</summary>
    public event Action<Exception>? ConnectionError;

    /// <summary>Called for each request the driver answered itself with an error status.</summary>
    public event Action<RequestRejectionReason>? RequestRejected;

    internal PrefixTable Table => _table;

    /// <summary>Open connections (for tests and diagnostics).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// How often the spare pools drop what went unused (issue 22: memory goes back after a burst of
    /// connections closes). Long enough that a steady load keeps what it uses between trims.
    /// </summary>
    internal static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(10);

    /// <summary>The spare request contexts: a connection holds one only while a request is in flight.</summary>
    internal RequestContextPool Contexts { get; } = new();

    /// <summary>The open connections (tests wait on their timers).</summary>
    internal ConnectionTable<HttpConnection> Connections => _connections;

    /// <summary>The endpoints being listened on, one per bound socket.</summary>
    public IReadOnlyList<IPEndPoint> ListenEndPoints
    {
        get
        {
            lock (_sync)
            {
                return _listeners.Values.SelectMany(static l => l).Select(static l => l.EndPoint).ToArray();
            }
        }
    }

    /// <summary>
    /// Opens a request queue for <paramref name="handler"/>: an anonymous one, or a named one created or
    /// attached to as <paramref name="mode"/> says, with HTTP.sys's errors. <paramref name="created"/>
    /// tells whether this call created it (the creator configures it and registers the prefixes).
    /// </summary>
    /// <exception cref="InvalidOperationException">Create for a name that exists, or Attach for one that does not.</exception>
    public RequestQueue OpenRequestQueue(string? name, RequestQueueMode mode, IRequestQueueHandler handler, out bool created)
    {
        if (name is null)
        {
            if (mode == RequestQueueMode.Attach)
            {
                throw new InvalidOperationException("RequestQueueMode.Attach needs a RequestQueueName: an anonymous queue cannot be attached to.");
            }
            created = true;
            var anonymous = new RequestQueue(null, handler) { Time = Clock.Time };
            Diagnostics.HttpSysLiteMeter.QueueOpened(anonymous);
            return anonymous;
        }
        lock (_sync)
        {
            if (_namedQueues.TryGetValue(name, out var existing))
            {
                if (mode == RequestQueueMode.Create)
                {
                    throw new InvalidOperationException(
                        $"A request queue named '{name}' already exists (HTTP.sys: ERROR_ALREADY_EXISTS). Use RequestQueueMode.Attach or CreateOrAttach to share it.");
                }
                existing.Attach(handler);
                created = false;
                return existing;
            }
            if (mode == RequestQueueMode.Attach)
            {
                throw new InvalidOperationException(
                    $"No request queue named '{name}' exists to attach to (HTTP.sys: ERROR_FILE_NOT_FOUND). Start the server that creates it first, or use CreateOrAttach.");
            }
            var queue = new RequestQueue(name, handler) { Time = Clock.Time };
            _namedQueues[name] = queue;
            Diagnostics.HttpSysLiteMeter.QueueOpened(queue);
            created = true;
            return queue;
        }
    }

    /// <summary>Detaches <paramref name="handler"/>; a named queue with no consumer left is forgotten.</summary>
    public void CloseRequestQueue(RequestQueue queue, IRequestQueueHandler handler)
    {
        lock (_sync)
        {
            if (queue.Detach(handler) == 0)
            {
                Diagnostics.HttpSysLiteMeter.QueueClosed(queue);
                if (queue.Name is not null && _namedQueues.TryGetValue(queue.Name, out var registered) && ReferenceEquals(registered, queue))
                {
                    _namedQueues.Remove(queue.Name);
                }
            }
        }
    }

    /// <summary>The named request queue <paramref name="name"/>, or null.</summary>
    internal RequestQueue? FindRequestQueue(string name)
    {
        lock (_sync)
        {
            return _namedQueues.TryGetValue(name, out var queue) ? queue : null;
        }
    }

    /// <summary>
    /// Where a request delegated to <paramref name="queueName"/> under <paramref name="prefix"/> goes: that
    /// queue's registration of the prefix. Null, with <paramref name="missing"/> saying which is absent, if
    /// the queue does not exist or holds no such prefix.
    /// </summary>
    internal PrefixRegistration? FindRegistration(string queueName, UrlPrefix prefix, out string? missing)
    {
        lock (_sync)
        {
            if (!_namedQueues.TryGetValue(queueName, out var queue))
            {
                missing = $"No request queue named '{queueName}' exists to delegate to (HTTP.sys: ERROR_FILE_NOT_FOUND). Start the server that creates it first.";
                return null;
            }
            foreach (var registration in _registrations)
            {
                if (ReferenceEquals(registration.Group.Queue, queue) && registration.Prefix.IsSameAs(prefix))
                {
                    missing = null;
                    return registration;
                }
            }
            missing = $"The request queue '{queueName}' has no URL prefix '{prefix}' to take a delegated request (HTTP.sys: ERROR_NOT_FOUND). Register that prefix in the queue's server.";
            return null;
        }
    }

    /// <summary>The connection settings in force on <paramref name="port"/>, or null when it is not bound.</summary>
    public ConnectionSettings? SettingsOf(int port)
    {
        lock (_sync)
        {
            return _listeners.TryGetValue(port, out var listeners) && listeners.Count > 0 ? listeners[0].Binding.Settings : null;
        }
    }

    internal PrefixRegistration Register(UrlGroup group, UrlPrefix prefix)
    {
        lock (_sync)
        {
            if (prefix.Port != 0)
            {
                foreach (var existing in _registrations)
                {
                    if (existing.Prefix.IsSameAs(prefix))
                    {
                        throw new InvalidOperationException(
                            $"The URL prefix '{prefix}' is already registered by {existing.Group.Owner}; {group.Owner} cannot register it too.");
                    }
                }
            }

            var newListeners = new List<ConnectionListener>();
            try
            {
                prefix = Bind(prefix, group.Settings, newListeners);
            }
            catch (SocketException ex)
            {
                foreach (var listener in newListeners)
                {
                    listener.Dispose();
                }
                throw new InvalidOperationException($"Cannot listen for '{prefix}': {ex.Message} ({ex.SocketErrorCode}).", ex);
            }

            var registration = new PrefixRegistration(prefix, group);
            _registrations.Add(registration);
            _table = PrefixTable.Create(_registrations);
            foreach (var listener in newListeners)
            {
                StartAccepting(listener);
            }
            return registration;
        }
    }

    internal void Unregister(IReadOnlyCollection<PrefixRegistration> registrations)
    {
        List<ConnectionListener> closing = new();
        lock (_sync)
        {
            foreach (var registration in registrations)
            {
                _registrations.Remove(registration);
            }
            _table = PrefixTable.Create(_registrations);
            foreach (int port in _listeners.Keys.ToArray())
            {
                if (!_table.HasPort(port))
                {
                    closing.AddRange(_listeners[port]);
                    _listeners.Remove(port);
                }
            }
        }
        foreach (var listener in closing)
        {
            listener.Dispose();
            foreach (var connection in _connections)
            {
                if (connection.Transport.LocalEndPoint.Port == listener.EndPoint.Port)
                {
                    // Nobody serves this port any more: finish what is queued, then close.
                    connection.CloseGracefully();
                }
            }
        }
    }

    internal void AbortRequestsOf(UrlGroup group)
    {
        foreach (var connection in _connections)
        {
            if (ReferenceEquals(connection.ActiveGroup, group))
            {
                connection.Abort();
            }
        }
    }

    /// <summary>
    /// HTTP.sys's IP listen list: when not empty, the only addresses the driver binds. A wildcard or host
    /// name prefix then binds each of them instead of [::], and an IP prefix must name one of them (0.0.0.0
    /// or [::] in the list stands for every address of its family). Like netsh http add iplisten, a
    /// change applies to ports bound after it; a port already open keeps its sockets until it closes.
    /// </summary>
    public IReadOnlyList<IPAddress> ListenAddresses { get; set; } = [];

    /// <summary>The addresses to bind for <paramref name="prefix"/> under the listen list; null for the dual-mode wildcard.</summary>
    private IPAddress[]? AddressesFor(UrlPrefix prefix)
    {
        var only = ListenAddresses;
        if (only.Count == 0)
        {
            return prefix.NeedsWildcardBind ? null : prefix.BindAddresses;
        }
        if (prefix.NeedsWildcardBind)
        {
            return [.. only];
        }
        var addresses = new List<IPAddress>();
        foreach (var address in prefix.BindAddresses)
        {
            foreach (var listed in only)
            {
                if (listed.Equals(address) || listed.AddressFamily == address.AddressFamily
                    && (listed.Equals(IPAddress.Any) || listed.Equals(IPAddress.IPv6Any)))
                {
                    addresses.Add(address);
                    break;
                }
            }
        }
        if (addresses.Count == 0)
        {
            throw new InvalidOperationException(
                $"'{prefix}' needs {string.Join(" or ", (object[])prefix.BindAddresses)}, which the driver's IP listen list ({string.Join(", ", only)}) leaves out. " +
                $"As root, run: httpsyslite add iplisten ipaddress={prefix.BindAddresses[0]}");
        }
        return [.. addresses];
    }

    /// <summary>Binds what <paramref name="prefix"/> needs on its port (docs/design.md section 4) and returns it with its real port.</summary>
    private UrlPrefix Bind(UrlPrefix prefix, ConnectionSettings settings, List<ConnectionListener> created)
    {
        if (prefix.Port == 0 && ListenAddresses.Count > 0)
        {
            throw new InvalidOperationException($"'{prefix}' asks for an ephemeral port, which the driver does not choose while it has an IP listen list: give the port.");
        }
        var bindAddresses = AddressesFor(prefix);
        if (prefix.Port == 0)
        {
            var ephemeral = BindEphemeral(prefix);
            var portBinding = NewPortBinding(ephemeral[0].EndPoint.Port, settings, prefix);
            foreach (var listener in ephemeral)
            {
                listener.Binding = portBinding;
                created.Add(listener);
            }
            _listeners[portBinding.Port] = ephemeral;
            return prefix.WithPort(portBinding.Port);
        }

        if (!_listeners.TryGetValue(prefix.Port, out var listeners))
        {
            listeners = new List<ConnectionListener>();
        }
        // The port's settings come from the server that opened it; they survive a rebind.
        var binding = listeners.Count > 0 ? listeners[0].Binding : NewPortBinding(prefix.Port, settings, prefix);
        if (binding.IsTls != prefix.IsHttps)
        {
            // HTTP.sys: a port speaks TLS or it does not, whichever prefix opened it.
            throw new InvalidOperationException(
                $"Port {prefix.Port} serves {(binding.IsTls ? "https" : "http")}, so '{prefix}' cannot be registered on it: a port is TLS or plain, not both. Use another port.");
        }
        if (bindAddresses is null)
        {
            if (!listeners.Exists(static l => l.IsWildcard))
            {
                // The port served IP literals alone and now needs the dual-mode socket: a listener
                // cannot share the port with the wider bind, so close the narrow listeners and bind
                // [::]. Established connections are sockets of their own and keep running; only a
                // connect in that instant could be refused. IP-bound prefixes keep matching on the
                // connection's local address.
                Rebind(listeners, static _ => true, () => BindWildcard(prefix.Port), binding, created);
            }
        }
        else
        {
            foreach (var address in bindAddresses)
            {
                if (listeners.Exists(l => l.Covers(address)))
                {
                    continue;
                }
                if (address.Equals(IPAddress.Any))
                {
                    // 0.0.0.0 takes every IPv4 address, so it replaces the port's IPv4 listeners.
                    Rebind(listeners, static l => l.EndPoint.AddressFamily == AddressFamily.InterNetwork,
                        () => _transport.BindAddress(new IPEndPoint(IPAddress.Any, prefix.Port), Clock), binding, created);
                    continue;
                }
                try
                {
                    var bound = _transport.BindAddress(new IPEndPoint(address, prefix.Port), Clock);
                    bound.Binding = binding;
                    created.Add(bound);
                    listeners.Add(bound);
                }
                catch (SocketException ex) when (prefix.IsLocalhost && IsUnavailableFamily(ex) && listeners.Count > 0)
                {
                    // localhost on a machine without that loopback family (no IPv6): the other one serves.
                }
            }
        }
        _listeners[prefix.Port] = listeners;
        return prefix;
    }

    /// <summary>
    /// Binds an ephemeral port for <paramref name="prefix"/>: the wildcard, or each of its addresses on one
    /// port number (localhost binds 127.0.0.1 first, then [::1] on the port it got, choosing again if
    /// that port is taken for IPv6).
    /// </summary>
    private List<ConnectionListener> BindEphemeral(UrlPrefix prefix)
    {
        if (prefix.NeedsWildcardBind)
        {
            return [BindWildcard(0)];
        }
        var addresses = prefix.BindAddresses;
        for (int attempt = 0; ; attempt++)
        {
            var bound = new List<ConnectionListener> { _transport.BindAddress(new IPEndPoint(addresses[0], 0), Clock) };
            try
            {
                for (int i = 1; i < addresses.Length; i++)
                {
                    try
                    {
                        bound.Add(_transport.BindAddress(new IPEndPoint(addresses[i], bound[0].EndPoint.Port), Clock));
                    }
                    catch (SocketException ex) when (IsUnavailableFamily(ex))
                    {
                        // That family is off on this machine: the others serve.
                    }
                }
                return bound;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 20)
            {
                foreach (var listener in bound)
                {
                    listener.Dispose();
                }
            }
        }
    }

    /// <summary>What the listeners of a newly opened port share; an https prefix makes it a TLS port.</summary>
    private PortBinding NewPortBinding(int port, ConnectionSettings settings, UrlPrefix prefix) =>
        prefix.IsHttps ? new PortBinding(port, settings, Certificates, ReportTlsFailure) : new PortBinding(port, settings);

    private ConnectionListener BindWildcard(int port)
    {
        var wildcard = _transport.BindWildcard(port, Clock);
        wildcard.IsWildcard = true;
        return wildcard;
    }

    private static bool IsUnavailableFamily(SocketException ex) =>
        ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported;

    /// <summary>
    /// Replaces the listeners that <paramref name="replaced"/> selects with the one <paramref name="bind"/>
    /// makes (a wider bind cannot share the port with them). If that bind fails, they are put back as
    /// they were, serving at once, and the error is thrown.
    /// </summary>
    private void Rebind(List<ConnectionListener> listeners, Predicate<ConnectionListener> replaced, Func<ConnectionListener> bind,
        PortBinding binding, List<ConnectionListener> created)
    {
        var narrow = listeners.FindAll(replaced);
        foreach (var listener in narrow)
        {
            listener.Dispose();
            listeners.Remove(listener);
        }
        try
        {
            var wide = bind();
            wide.Binding = binding;
            created.Add(wide);
            listeners.Add(wide);
        }
        catch (SocketException)
        {
            foreach (var listener in narrow)
            {
                var restored = _transport.BindAddress(listener.EndPoint, Clock);
                restored.Binding = binding;
                listeners.Add(restored);
                StartAccepting(restored);
            }
            throw;
        }
    }

    /// <summary>Starts accepting on a new listener; connections arrive in <see cref="OnAccepted"/>.</summary>
    private void StartAccepting(ConnectionListener listener)
    {
        _heartbeat.EnsureStarted();
        listener.Start(_onAccepted ??= OnAccepted, ReportError);
    }

    private void OnAccepted(ConnectionListener listener, TransportConnection transport)
    {
        var binding = listener.Binding;
        ulong id = Interlocked.Increment(ref s_lastConnectionId);
        var log = Diagnostics.HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.ConnConnect(id, transport.LocalEndPoint.ToString(), transport.RemoteEndPoint.ToString());
            log.ConnIdAssgn(id, transport.LocalEndPoint.Port, transport.RemoteEndPoint.Port);
        }
        // Beyond MaxConnections the connection is still accepted, to be told so (503) or reset.
        bool admitted = binding.TryAdmit();
        transport.Id = id;
        var connection = new HttpConnection(this, transport, id, binding, admitted);
        connection.Slot = _connections.Add(connection);
        // The transport starts here, so a request that came with the connection is read before the
        // next accept (which then finds more connections waiting, rather than none).
        transport.Start();
        if (transport.OnLoopThread)
        {
            // On an I/O loop the connection runs here until it waits for its first head (which the
            // loop then reads and parses here too); it leaves the loop before the app runs.
            _ = connection.RunAsync();
        }
        else
        {
            // The accept loop goes back to accepting; the HTTP loop runs on the thread pool.
            ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.RunAsync(), connection, preferLocal: false);
        }
    }

    internal void RemoveConnection(HttpConnection connection)
    {
        int slot = connection.TakeSlot();
        if (slot >= 0)
        {
            _connections.Remove(slot);
            connection.Binding.Release();
        }
    }

    /// <summary>One walk over the open connections per heartbeat: fire the deadlines that passed.</summary>
    private void OnHeartbeat(long now)
    {
        // Suspended connections are looked at only when their one deadline has come (ConnectionTable).
        int holding = _connections.Walk(now, now, static (connection, now) => connection.OnHeartbeat(now));
        _memoryRelease.Observe(holding);
        if (now >= _nextTrim)
        {
            _nextTrim = now + (long)TrimPeriod.TotalMilliseconds;
            Contexts.Trim();
            Buffers.BlockMemoryPool.Default.Trim();
            _memoryRelease.OnTrim(_connections.Count, holding);
        }
    }

    internal void ReportError(Exception exception) => ConnectionError?.Invoke(exception);

    internal void ReportRejection(RequestRejectionReason reason) => RequestRejected?.Invoke(reason);

    /// <summary>
    /// Stops the heartbeat and the cache's scavenger (a test's own driver, once its servers stopped). Ports
    /// and connections belong to the servers: stop those first.
    /// </summary>
    public void Dispose()
    {
        _heartbeat.Dispose();
        Cache.Dispose();
    }
}
