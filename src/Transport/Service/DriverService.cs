using System.Net.Sockets;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The driver as a service (docs/design.md section 10): the driver's request queues offered to app
/// processes over a Unix socket. Each accepted connection is a <see cref="ServiceChannel"/>; a queue's
/// URL group lives as long as some process has the queue open, so the process that created it can
/// leave while another that attached goes on serving (an app replaced with no request lost).
/// </summary>
public sealed partial class DriverService : IAsyncDisposable
{
    private readonly HttpDriver _driver;
    private readonly string _socketPath;
    private readonly object _sync = new();
    private readonly Dictionary<RequestQueue, (UrlGroup? Group, int Members)> _queues = new();
    private readonly Dictionary<RequestQueue, QueueAccessList> _access = new();
    private readonly HashSet<ServiceChannel> _channels = new();
    private Socket? _listener;
    private Task? _accepting;

    private readonly string? _configPath;

    /// <summary>
    /// A service for <paramref name="driver"/>'s queues, listening at <paramref name="socketPath"/> once
    /// started, with its reservations kept in <paramref name="configPath"/> (in memory only when null).
    /// </summary>
    public DriverService(HttpDriver driver, string socketPath, string? configPath = null)
    {
        _driver = driver;
        _socketPath = socketPath;
        _configPath = configPath;
    }

    // The certificate bindings this service added (sslcert), as given and as the driver holds them.
    private readonly List<(SslCertificateEntry Entry, Tls.CertificateBinding Binding)> _sslEntries = new();

    /// <summary>Writes the state the verbs change to the config file, when there is one.</summary>
    private void SaveConfig()
    {
        if (_configPath is null)
        {
            return;
        }
        List<SslCertificateEntry> certificates;
        lock (_sslEntries)
        {
            certificates = _sslEntries.ConvertAll(e => e.Entry);
        }
        var listen = new List<string>();
        foreach (var address in _driver.ListenAddresses)
        {
            listen.Add(address.ToString());
        }
        new DriverConfig { UrlReservations = [.. Reservations.List()], SslCertificates = certificates, IpListen = listen }.Save(_configPath);
    }

    /// <summary>Who may register which prefixes (urlacl); root may register anything.</summary>
    public UrlReservations Reservations { get; } = new();

    /// <summary>What the service does, for the host's log: channels accepted and ended, queues opened, errors.</summary>
    public event Action<string>? Message;

    /// <summary>The socket's path.</summary>
    public string SocketPath => _socketPath;

    /// <summary>Channels open now.</summary>
    public int ChannelCount
    {
        get
        {
            lock (_sync)
            {
                return _channels.Count;
            }
        }
    }

    /// <summary>Listens at the socket path (a stale socket file left by an earlier run is replaced).</summary>
    /// <exception cref="InvalidOperationException">Another driver is listening there.</exception>
    public void Start()
    {
        if (_configPath is not null)
        {
            // Read before anything listens: a config that does not parse stops the start, unchanged.
            var config = DriverConfig.Load(_configPath);
            try
            {
                Reservations.Load(config.UrlReservations);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"The driver's config {_configPath} holds an invalid URL reservation: {ex.Message} Fix the file; it was not changed.", ex);
            }
            for (int i = 0; i < config.SslCertificates.Count; i++)
            {
                var entry = config.SslCertificates[i];
                string name = $"{_configPath}: sslCertificates[{i}] ({entry.Endpoint})";
                entry.CheckKeyIsPrivate(name);
                var binding = entry.ToBinding(name);
                try
                {
                    _driver.Certificates.Set(binding);
                }
                catch (InvalidOperationException ex)
                {
                    throw new InvalidOperationException($"{name}: {ex.Message}", ex);
                }
                _sslEntries.Add((entry, binding));
            }
            var listen = new List<System.Net.IPAddress>();
            foreach (string address in config.IpListen)
            {
                listen.Add(System.Net.IPAddress.TryParse(address, out var parsed) ? parsed
                    : throw new InvalidOperationException($"The driver's config {_configPath} lists '{address}' in ipListen, which is not an IP address. Fix the file; it was not changed."));
            }
            _driver.ListenAddresses = listen;
            Reservations.Changed += _ => SaveConfig();
        }
        if (File.Exists(_socketPath))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(_socketPath));
                throw new InvalidOperationException($"A driver is already listening at {_socketPath}. Stop it first, or give this one another --socket.");
            }
            catch (SocketException)
            {
                File.Delete(_socketPath); // nobody answers: left by a driver that did not stop cleanly
            }
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        if (!OperatingSystem.IsWindows())
        {
            // Any user's app may attach: what it may register is decided by the URL reservations, with
            // the kernel's word for who it is (SO_PEERCRED), not by who can open the socket.
            File.SetUnixFileMode(_socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        }
        listener.Listen(512);
        _listener = listener;
        _accepting = AcceptLoopAsync(listener);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // stopped
            }
            var channel = new ServiceChannel(this, socket);
            lock (_sync)
            {
                _channels.Add(channel);
            }
            Message?.Invoke($"An app process attached ({channel.Peer?.ToString() ?? "credentials unknown"}).");
            _ = RunChannelAsync(channel);
        }
    }

    private async Task RunChannelAsync(ServiceChannel channel)
    {
        await channel.RunAsync().ConfigureAwait(false);
        lock (_sync)
        {
            _channels.Remove(channel);
        }
        Message?.Invoke($"An app process left ({channel.Peer?.ToString() ?? "credentials unknown"}).");
    }

    internal OpenQueueReply OpenQueue(ServiceChannel channel, OpenQueueRequest request)
    {
        lock (_sync)
        {
            if (channel.Queue is not null)
            {
                return new OpenQueueReply { Error = "This channel has a request queue open already: open each queue on a channel of its own." };
            }
            QueueAccessList? access = null;
            if (request.SecurityDescriptor is { } sddl)
            {
                try
                {
                    access = QueueAccessList.Parse(sddl);
                }
                catch (FormatException ex)
                {
                    return new OpenQueueReply { Error = $"The request queue's security descriptor is refused: {ex.Message}" };
                }
            }
            if (request.Name is { } name && channel.Peer is { } attacher && _driver.FindRequestQueue(name) is { } existing
                && _access.TryGetValue(existing, out var existingAccess)
                && !existingAccess.Admits(attacher.UserId, UnixAccounts.GroupsOf(attacher.ProcessId, attacher.GroupId)))
            {
                // Checked before the attach, so a refused process never becomes a consumer, even for a moment.
                string user = UnixAccounts.UserName(attacher.UserId);
                string denied = $"Access denied (HTTP.sys: ERROR_ACCESS_DENIED): user '{user}' (uid {attacher.UserId}) may not attach to request queue '{name}': " +
                    $"its creator's security descriptor ({existingAccess.Sddl}) does not admit {QueueAccessList.UserSid(attacher.UserId)} or its groups.";
                Message?.Invoke($"Process {attacher.ProcessId}: {denied}");
                return new OpenQueueReply { Error = denied };
            }
            RequestQueue queue;
            bool created;
            try
            {
                queue = _driver.OpenRequestQueue(request.Name, request.Mode, channel, out created);
            }
            catch (InvalidOperationException ex)
            {
                return new OpenQueueReply { Error = ex.Message };
            }
            if (!created)
            {
                var membership = _queues[queue];
                _queues[queue] = (membership.Group, membership.Members + 1);
                channel.Queue = queue;
                Message?.Invoke($"Process {channel.Peer?.ProcessId} attached to request queue '{queue.Name}'.");
                return new OpenQueueReply { Created = false };
            }
            queue.Limit = request.QueueLimit;
            queue.Timeout = request.QueueTimeout;
            queue.RejectionMode = request.RejectionMode;
            queue.MaxConcurrentRequests = request.MaxConcurrentRequests;
            // The queue's consumers here are channels, which never block: a request goes to its app
            // process from the thread that parsed it, with no hop to the thread pool first.
            queue.PreferInlineScheduling = true;
            var group = new UrlGroup(_driver, queue) { Owner = request.Owner, Settings = request.Settings };
            var bound = new List<string>();
            try
            {
                if (channel.Peer is { } peer)
                {
                    // HTTP.sys checks the namespace before it registers anything: one prefix refused, none kept.
                    var groups = UnixAccounts.GroupsOf(peer.ProcessId, peer.GroupId);
                    foreach (string prefix in request.Prefixes)
                    {
                        if (Reservations.Check(UrlPrefix.Create(prefix), peer.UserId, groups) is { } denied)
                        {
                            throw new UnauthorizedAccessException(denied);
                        }
                    }
                }
                foreach (string prefix in request.Prefixes)
                {
                    // The driver's own bindings serve an app's https prefix: the app brings no certificate.
                    var parsed = UrlPrefix.Create(prefix);
                    if (parsed.IsHttps && parsed.Port != 0 && !_driver.Certificates.HasPort(parsed.Port))
                    {
                        throw new InvalidOperationException(
                            $"The https prefix {parsed.FullPrefix} has no certificate binding for port {parsed.Port} in the driver. " +
                            $"As root, run: httpsyslite sslcert add ipport=0.0.0.0:{parsed.Port} certfile=CERT.pem keyfile=KEY.pem");
                    }
                }
                foreach (string prefix in request.Prefixes)
                {
                    bound.Add(group.AddPrefix(UrlPrefix.Create(prefix)).FullPrefix);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or SocketException or UnauthorizedAccessException)
            {
                group.Dispose();
                _driver.CloseRequestQueue(queue, channel);
                Message?.Invoke($"Process {channel.Peer?.ProcessId} could not open request queue '{queue.Name ?? "(anonymous)"}': {ex.Message}");
                return new OpenQueueReply { Error = ex.Message };
            }
            _queues[queue] = (group, 1);
            if (access is not null)
            {
                _access[queue] = access;
            }
            channel.Queue = queue;
            Message?.Invoke($"Process {channel.Peer?.ProcessId} created request queue '{queue.Name ?? "(anonymous)"}' with {string.Join(", ", bound)}.");
            return new OpenQueueReply { Created = true, Prefixes = [.. bound] };
        }
    }

    /// <summary>The channel takes no more requests; the queue's prefixes go when no process has it open.</summary>
    internal void Leave(ServiceChannel channel)
    {
        lock (_sync)
        {
            var queue = channel.Queue;
            if (queue is null)
            {
                return;
            }
            channel.Queue = null;
            _driver.CloseRequestQueue(queue, channel);
            var membership = _queues[queue];
            if (membership.Members > 1)
            {
                _queues[queue] = (membership.Group, membership.Members - 1);
                return;
            }
            _queues.Remove(queue);
            _access.Remove(queue);
            membership.Group?.Dispose();
        }
    }

    internal void Report(string message) => Message?.Invoke(message);

    internal void OnChannelError(ServiceChannel channel, Exception exception) =>
        Message?.Invoke($"The channel of {channel.Peer?.ToString() ?? "an app process"} ended with an error: {exception.Message}");

    /// <summary>Stops listening and ends every channel (their requests are answered as when an app process exits).</summary>
    public async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(false);
        }
        ServiceChannel[] channels;
        lock (_sync)
        {
            channels = [.. _channels];
        }
        foreach (var channel in channels)
        {
            channel.Close();
        }
        try
        {
            File.Delete(_socketPath);
        }
        catch (IOException)
        {
            // Gone already.
        }
    }
}
