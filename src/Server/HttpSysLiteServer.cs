using HttpSysLite.RequestProcessing;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Tls;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using HttpSysAuthenticationSchemes = Microsoft.AspNetCore.Server.HttpSys.AuthenticationSchemes;
using HttpSysClientCertificateMethod = Microsoft.AspNetCore.Server.HttpSys.ClientCertificateMethod;
using HttpSysRequestQueueMode = Microsoft.AspNetCore.Server.HttpSys.RequestQueueMode;
using HttpSysUrlPrefix = Microsoft.AspNetCore.Server.HttpSys.UrlPrefix;
using Http503VerbosityLevel = Microsoft.AspNetCore.Server.HttpSys.Http503VerbosityLevel;

namespace HttpSysLite;

/// <summary>
/// The ASP.NET Core server over the HttpSysLite driver: registers the prefixes in a URL group, and
/// runs the app for each request the group's queue delivers. Start and stop are idempotent; stop is
/// graceful (drain until the token fires, then abort what is left).
/// </summary>
public sealed partial class HttpSysLiteServer : IServer, Features.IHttpSysLiteCacheFeature, Features.IHttpSysLiteCertificateBindingsFeature,
    Microsoft.AspNetCore.Server.HttpSys.IServerDelegationFeature
{
    private readonly HttpDriver _driver;
    private readonly ILogger _logger;
    private readonly ServerAddressesFeature _addresses = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private UrlGroup? _urlGroup;
    private RequestQueue? _queue;
    // Keyed by the HttpSys prefix's FullPrefix, as UrlPrefixes holds it; the value is what the driver registered.
    private readonly Dictionary<string, UrlPrefix> _registered = new(StringComparer.OrdinalIgnoreCase);
    // Prefixes added at run time that the driver refused (logged once each, until removed).
    private readonly HashSet<string> _refused = new(StringComparer.OrdinalIgnoreCase);
    private ITimer? _prefixWatch;
    // The certificate bindings this server added to the driver, removed again when it stops.
    private readonly List<Transport.Tls.CertificateBinding> _certificateBindings = new();
    private IRequestQueueHandler? _dispatcher;
    private int _activeRequests;
    private volatile bool _stopping;
    private bool _started;
    private bool _stopped;
    private bool _cacheSettingsApplied;

    /// <summary>A server on the process-wide driver, <see cref="HttpDriver.Shared"/>.</summary>
    public HttpSysLiteServer(IOptions<HttpSysLiteOptions> options, ILoggerFactory loggerFactory)
        : this(options, loggerFactory, HttpDriver.Shared)
    {
    }

    /// <summary>
    /// Created by dependency injection (see UseHttpSysLite): on the <see cref="HttpDriver"/> registered as
    /// a service if there is one (a test's own driver, with its own clock and transport), else on the
    /// process-wide <see cref="HttpDriver.Shared"/>, which lets several servers share a port.
    /// </summary>
    public HttpSysLiteServer(IOptions<HttpSysLiteOptions> options, ILoggerFactory loggerFactory, IServiceProvider services)
        : this(options, loggerFactory, (services ?? throw new ArgumentNullException(nameof(services))).GetService(typeof(HttpDriver)) as HttpDriver ?? HttpDriver.Shared)
    {
    }

    internal HttpSysLiteServer(IOptions<HttpSysLiteOptions> options, ILoggerFactory loggerFactory, HttpDriver driver)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Options = options.Value;
        _driver = driver;
        _logger = loggerFactory.CreateLogger("HttpSysLite");
        Features = new FeatureCollection();
        Features.Set<IServerAddressesFeature>(_addresses);
        Features.Set<Features.IHttpSysLiteCacheFeature>(this);
        Features.Set<Features.IHttpSysLiteCertificateBindingsFeature>(this);
        Features.Set<Microsoft.AspNetCore.Server.HttpSys.IServerDelegationFeature>(this);
    }

    /// <summary>
    /// A rule that delegates requests to the queue <paramref name="queueName"/>, served under its prefix
    /// <paramref name="urlPrefix"/> (HttpSys's IServerDelegationFeature). The destination is the prefix as
    /// that queue's server registered it. With the in-process driver it is checked now; through a driver in
    /// another process it is checked at each delegation (a missing one is answered 503 and logged there).
    /// </summary>
    /// <exception cref="ArgumentException">The prefix does not parse.</exception>
    /// <exception cref="InvalidOperationException">No such queue holds that prefix (in-process driver).</exception>
    public Microsoft.AspNetCore.Server.HttpSys.DelegationRule CreateDelegationRule(string queueName, string urlPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueName);
        ArgumentException.ThrowIfNullOrEmpty(urlPrefix);
        UrlPrefix prefix;
        try
        {
            prefix = UrlPrefix.Create(urlPrefix);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(urlPrefix), ex);
        }
        if (DriverSocket is null && _driver.FindRegistration(queueName, prefix, out string? missing) is null)
        {
            throw new InvalidOperationException(missing);
        }
        return DelegationRuleFactory.Create(queueName, prefix.FullPrefix);
    }

    /// <summary>The options in force.</summary>
    public HttpSysLiteOptions Options { get; }

    /// <inheritdoc />
    public IFeatureCollection Features { get; }

    internal bool IsStopping => _stopping;

    internal ILogger Logger => _logger;

    /// <inheritdoc />
    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        ArgumentNullException.ThrowIfNull(application);
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                return;
            }
            ValidateOptions();
            var prefixes = Options.RequestQueueMode == HttpSysRequestQueueMode.Attach ? [] : ResolvePrefixes();
            if (DriverSocket is { } driverSocket)
            {
                await StartOnDriverAsync(application, driverSocket, prefixes, cancellationToken).ConfigureAwait(false);
                _started = true;
                return;
            }
            // The cache is the driver's, shared by its servers: the first one's limits apply, before any
            // request can be stored.
            _cacheSettingsApplied = _driver.Cache.TryApplySettings(new Transport.Caching.ResponseCacheSettings
            {
                MaxBytes = Options.ResponseCache.MaxBytes,
                MaxEntryBytes = Options.ResponseCache.MaxEntryBytes,
                ScavengerPeriod = Options.ResponseCache.ScavengerPeriod,
                AddHitHeader = Options.ResponseCache.AddHitHeader,
            });
            if (!_cacheSettingsApplied)
            {
                Log.CacheSettingsDiffer(_logger);
            }
            try
            {
                AddCertificateBindings(prefixes);
                _driver.ConnectionError += OnConnectionError;
                _driver.TlsFailure += OnTlsFailure;

                var dispatcher = new ApplicationDispatcher<TContext>(this, application);
                var queue = _driver.OpenRequestQueue(Options.RequestQueueName, (Transport.Routing.RequestQueueMode)Options.RequestQueueMode, dispatcher, out bool created);
                var bound = new List<string>();
                if (created)
                {
                    queue.Limit = (int)Math.Min(Options.RequestQueueLimit, int.MaxValue);
                    queue.Timeout = OrDefault(Options.Timeouts.RequestQueue, Transport.Routing.RequestQueue.DefaultTimeout);
                    queue.PreferInlineScheduling = Options.UnsafePreferInlineScheduling;
                    queue.MaxConcurrentRequests = Options.MaxConcurrentRequests;
                    queue.RejectionMode = RejectionMode;
                    var group = new UrlGroup(_driver, queue)
                    {
                        Owner = $"server '{Options.RequestQueueName ?? "(anonymous queue)"}'",
                        Settings = CreateConnectionSettings(queue.RejectionMode),
                    };
                    try
                    {
                        foreach (var (key, prefix) in prefixes)
                        {
                            var registered = group.AddPrefix(prefix);
                            _registered[key] = registered;
                            if (_driver.SettingsOf(registered.Port) is { } inForce && inForce != group.Settings)
                            {
                                Log.PortSettingsDiffer(_logger, registered.FullPrefix);
                            }
                            bound.Add(registered.FullPrefix);
                        }
                    }
                    catch
                    {
                        group.Dispose();
                        _driver.CloseRequestQueue(queue, dispatcher);
                        throw;
                    }
                    _urlGroup = group;
                    // From now on, changes to UrlPrefixes apply to new requests. HttpSys's collection
                    // tells only its own (Windows) URL group, so it is watched: a change applies
                    // within PrefixWatchPeriod.
                    _prefixWatch = TimeProvider.System.CreateTimer(static s => ((HttpSysLiteServer)s!).ApplyPrefixChanges(), this, PrefixWatchPeriod, PrefixWatchPeriod);
                }
                else
                {
                    // Attached: the creator's prefixes and queue settings apply (as with HTTP.sys).
                    Log.AttachedToQueue(_logger, queue.Name!);
                }

                _queue = queue;
                _dispatcher = dispatcher;
                _addresses.Addresses.Clear();
                foreach (string address in bound)
                {
                    _addresses.Addresses.Add(address);
                    Log.ListeningOn(_logger, address);
                }
            }
            catch
            {
                _driver.ConnectionError -= OnConnectionError;
                _driver.TlsFailure -= OnTlsFailure;
                RemoveCertificateBindings();
                ReleaseCacheSettings();
                throw;
            }
            _started = true;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_started || _stopped)
            {
                return;
            }
            if (_driverClient is not null)
            {
                await StopOnDriverAsync(cancellationToken).ConfigureAwait(false);
                _stopped = true;
                return;
            }
            // 1. New requests for us are answered 503 with Connection: close from here on.
            _stopping = true;
            // 2. Let the requests in flight finish, until the host's shutdown token fires.
            if (Volatile.Read(ref _activeRequests) > 0)
            {
                try
                {
                    await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // 3. Past the deadline: abort what is left.
                    Log.StopTimedOut(_logger, Volatile.Read(ref _activeRequests));
                    _urlGroup?.AbortActiveRequests();
                }
            }
            // 4. Release the prefixes (a port nobody else uses closes with its idle connections) and the queue.
            _prefixWatch?.Dispose();
            lock (_registered)
            {
                _prefixWatch = null;
            }
            ReleaseCacheSettings();
            _urlGroup?.Dispose();
            _driver.CloseRequestQueue(_queue!, _dispatcher!);
            RemoveCertificateBindings();
            _driver.ConnectionError -= OnConnectionError;
            _driver.TlsFailure -= OnTlsFailure;
            _stopped = true;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private void ReleaseCacheSettings()
    {
        if (_cacheSettingsApplied)
        {
            _cacheSettingsApplied = false;
            _driver.Cache.ReleaseSettings();
        }
    }

    /// <inheritdoc />
    public void Dispose() => StopAsync(new CancellationToken(canceled: true)).GetAwaiter().GetResult();

    internal void RequestStarted() => Interlocked.Increment(ref _activeRequests);

    internal void RequestFinished()
    {
        if (Interlocked.Decrement(ref _activeRequests) == 0 && _stopping)
        {
            _drained.TrySetResult();
        }
    }

    /// <inheritdoc />
    public int Flush(string url, bool recursive = false) => _driver.Cache.Flush(url, recursive);

    /// <summary>How soon a change to UrlPrefixes applies while the server runs.</summary>
    internal static readonly TimeSpan PrefixWatchPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Registers what was added to UrlPrefixes and releases what was removed, as HttpSys's collection does
    /// through its URL group. Runs on the watch timer; a prefix the driver refuses is logged once.
    /// </summary>
    internal void ApplyPrefixChanges()
    {
        lock (_registered)
        {
            if (_prefixWatch is null || _urlGroup is not { } group)
            {
                return; // stopped
            }
            // The common case, nothing changed, allocates nothing but the collection's enumerator.
            int count = 0;
            bool changed = false;
            foreach (var prefix in Options.UrlPrefixes)
            {
                count++;
                if (!_registered.ContainsKey(prefix.FullPrefix) && !_refused.Contains(prefix.FullPrefix))
                {
                    changed = true;
                    break;
                }
            }
            if (!changed && count == _registered.Count + _refused.Count)
            {
                return;
            }

            var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var prefix in Options.UrlPrefixes)
            {
                if (!wanted.Add(prefix.FullPrefix) || _registered.ContainsKey(prefix.FullPrefix) || _refused.Contains(prefix.FullPrefix))
                {
                    continue;
                }
                try
                {
                    var registered = group.AddPrefix(ToDriverPrefix(prefix.FullPrefix, "UrlPrefixes"));
                    _registered[prefix.FullPrefix] = registered;
                    _addresses.Addresses.Add(registered.FullPrefix);
                    Log.ListeningOn(_logger, registered.FullPrefix);
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException)
                {
                    _refused.Add(prefix.FullPrefix);
                    Log.PrefixRefused(_logger, prefix.FullPrefix, ex);
                }
            }
            foreach (var (key, registered) in _registered.ToArray())
            {
                if (!wanted.Contains(key))
                {
                    _registered.Remove(key);
                    group.RemovePrefix(registered);
                    _addresses.Addresses.Remove(registered.FullPrefix);
                }
            }
            _refused.IntersectWith(wanted);
        }
    }

    /// <summary>
    /// HttpSys's rule: options win unless PreferHostingUrls; then hosting addresses; then the default.
    /// As in HttpSys, addresses that are used become the contents of UrlPrefixes.
    /// </summary>
    private List<(string Key, UrlPrefix Prefix)> ResolvePrefixes()
    {
        bool useAddresses = _addresses.PreferHostingUrls && _addresses.Addresses.Count > 0;
        if (!useAddresses && Options.UrlPrefixes.Count > 0)
        {
            if (_addresses.Addresses.Count > 0)
            {
                Log.AddressesOverridden(_logger, string.Join(", ", _addresses.Addresses));
            }
        }
        else
        {
            string[] source = _addresses.Addresses.Count > 0 ? [.. _addresses.Addresses] : [HttpSysLiteOptions.DefaultUrlPrefix];
            Options.UrlPrefixes.Clear();
            foreach (string address in source)
            {
                try
                {
                    Options.UrlPrefixes.Add(address);
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidOperationException($"The address '{address}' (--urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS) is not a URL prefix: {ex.Message}", ex);
                }
            }
        }

        var prefixes = new List<(string, UrlPrefix)>();
        foreach (var prefix in Options.UrlPrefixes)
        {
            prefixes.Add((prefix.FullPrefix, ToDriverPrefix(prefix.FullPrefix, "UrlPrefixes (or --urls)")));
        }
        return prefixes;
    }

    /// <summary>HttpSys's prefix, checked once more by the driver's own grammar (docs/design.md section 4).</summary>
    private static UrlPrefix ToDriverPrefix(string fullPrefix, string source) =>
        UrlPrefix.TryCreate(fullPrefix, out var prefix, out string? error)
            ? prefix
            : throw new InvalidOperationException($"HttpSysLiteOptions.{source} holds the prefix '{fullPrefix}', which HttpSysLite cannot serve: {error}");

    /// <summary>HttpSys's convention for its timers: TimeSpan.Zero means the system default.</summary>
    private static TimeSpan OrDefault(TimeSpan value, TimeSpan systemDefault) => value == TimeSpan.Zero ? systemDefault : value;

    /// <summary>The limits, timers and connection limit for the ports this server opens.</summary>
    private ConnectionSettings CreateConnectionSettings(ServiceUnavailableMode rejectionMode)
    {
        var timeouts = Options.Timeouts;
        long? maxConnections = Options.MaxConnections;
        if (maxConnections is null && Transport.Sockets.DescriptorLimit.Current() is long descriptors)
        {
            // Connections that take every descriptor leave none for the runtime, which then ends the
            // process: by default a port admits what the open-file limit allows, less a reserve.
            maxConnections = Transport.Sockets.DescriptorLimit.DefaultMaxConnections(descriptors);
            Log.DefaultMaxConnections(_logger, maxConnections!.Value, descriptors);
        }
        return new ConnectionSettings
        {
            Limits = new HttpParserLimits(Options.MaxRequestBytes, Options.MaxFieldLength, Options.MaxRequestHeaderCount)
            {
                UrlSegmentMaxLength = Options.UrlSegmentMaxLength,
                UrlSegmentMaxCount = Options.UrlSegmentMaxCount,
            },
            HeaderWait = OrDefault(timeouts.HeaderWait, ConnectionSettings.DefaultTimeout),
            IdleConnection = OrDefault(timeouts.IdleConnection, ConnectionSettings.DefaultTimeout),
            EntityBody = OrDefault(timeouts.EntityBody, ConnectionSettings.DefaultTimeout),
            DrainEntityBody = OrDefault(timeouts.DrainEntityBody, ConnectionSettings.DefaultTimeout),
            // HttpSys's special values: 0 is the system default (150), uint.MaxValue turns the timer off.
            MinSendBytesPerSecond = timeouts.MinSendBytesPerSecond switch
            {
                0 => ConnectionSettings.DefaultMinSendBytesPerSecond,
                uint.MaxValue => 0,
                long rate => rate,
            },
            MaxConnections = maxConnections,
            ConnectionLimitMode = rejectionMode,
            ClientCertificates = Options.ClientCertificateMethod switch
            {
                HttpSysClientCertificateMethod.AllowCertificate => ClientCertificateRequest.InHandshake,
                HttpSysClientCertificateMethod.AllowRenegotation => ClientCertificateRequest.OnRequest,
                _ => ClientCertificateRequest.Never,
            },
            CacheTlsClientHello = Options.CacheTlsClientHello,
        };
    }

    private void ValidateOptions()
    {
        if (!(Options.MinRequestBodyBytesPerSecond >= 0) || Options.MinRequestBodyGracePeriod < TimeSpan.Zero)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MinRequestBodyBytesPerSecond must be 0 (off) or positive, and MinRequestBodyGracePeriod at least zero; the defaults are Kestrel's, 240 bytes per second after 5 seconds.");
        }
                if (Options.MaxConnections < 1)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxConnections must be null (a limit from the process's open-file limit) or at least 1.");
        }
        if (Options.UrlSegmentMaxLength < 1 || Options.UrlSegmentMaxCount < 1)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.UrlSegmentMaxLength and UrlSegmentMaxCount must be at least 1; the HTTP.sys defaults are 260 and 255.");
        }
        if (Options.MaxRequestBodySize < 0)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxRequestBodySize must be null (no limit) or at least 0.");
        }
        if (Options.MaxRequestBytes < 256)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxRequestBytes must be at least 256 bytes; the HTTP.sys default is 16384.");
        }
        if (Options.MaxFieldLength < 64)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxFieldLength must be at least 64 bytes; the HTTP.sys default is 16384.");
        }
        if (Options.ResponseCache.MaxEntryBytes < 0 || Options.ResponseCache.MaxBytes < 0)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.ResponseCache.MaxBytes and MaxEntryBytes must be at least 0 (0 stores nothing).");
        }
        if (Options.ResponseCache.ScavengerPeriod <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.ResponseCache.ScavengerPeriod must be positive; the HTTP.sys default is 120 seconds.");
        }
        if (Options.RequestQueueLimit < 1)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.RequestQueueLimit must be at least 1; the HTTP.sys default is 1000.");
        }
        if (Options.MaxConcurrentRequests < 1)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxConcurrentRequests must be null (no limit) or at least 1.");
        }
        if (Options.RequestQueueMode != HttpSysRequestQueueMode.Create && Options.RequestQueueName is null)
        {
            throw new InvalidOperationException($"HttpSysLiteOptions.RequestQueueMode {Options.RequestQueueMode} needs a RequestQueueName: set one, or use RequestQueueMode.Create.");
        }
        if (Options.MaxRequestHeaderCount < 1)
        {
            throw new InvalidOperationException("HttpSysLiteOptions.MaxRequestHeaderCount must be at least 1; the default is 100.");
        }
        // HttpSys options that need what this driver does not have yet, or cannot have on this OS.
        if (Options.Authentication.Schemes != HttpSysAuthenticationSchemes.None)
        {
            throw new InvalidOperationException(
                $"HttpSysOptions.Authentication.Schemes = {Options.Authentication.Schemes}: HttpSysLite has no Windows authentication. " +
                "Leave Schemes at None and add the ASP.NET Core Negotiate handler (services.AddAuthentication(NegotiateDefaults.AuthenticationScheme).AddNegotiate(), " +
                "package Microsoft.AspNetCore.Authentication.Negotiate), which does Negotiate and Kerberos on Linux.");
        }
        if (!Options.Authentication.AllowAnonymous)
        {
            throw new InvalidOperationException(
                "HttpSysOptions.Authentication.AllowAnonymous = false with no authentication scheme would refuse every request. " +
                "Leave it true and require authentication in the app (the Negotiate handler with an authorization policy).");
        }
        if (Options.ClientCertificateMethod == HttpSysClientCertificateMethod.AllowRenegotation
            && !OperatingSystem.IsLinux() && !OperatingSystem.IsWindows() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException(
                "HttpSysOptions.ClientCertificateMethod = AllowRenegotation needs a TLS library that can ask for a certificate after the handshake " +
                "(OpenSSL on Linux and FreeBSD, SChannel on Windows); this platform's cannot. Use AllowCertificate, which asks in every handshake.");
        }
        if (Options.RequestQueueSecurityDescriptor is not null)
        {
            throw new InvalidOperationException(
                "HttpSysOptions.RequestQueueSecurityDescriptor cannot carry a Unix access list (its types are Windows-only). " +
                "Give the same descriptor as SDDL in HttpSysLiteOptions.RequestQueueSecurityDescriptorSddl, with users as S-1-22-1-UID and groups as S-1-22-2-GID.");
        }
        if (Options.RequestQueueSecurityDescriptorSddl is { } sddl)
        {
            try
            {
                Transport.Service.QueueAccessList.Parse(sddl);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"HttpSysLiteOptions.RequestQueueSecurityDescriptorSddl: {ex.Message}", ex);
            }
        }
    }

    private void OnConnectionError(Exception exception) => Log.ConnectionError(_logger, exception);

    private void OnTlsFailure(string message) => Log.TlsFailure(_logger, message);

    /// <summary>
    /// Puts the options' certificate bindings into the driver, each checked (a readable certificate with
    /// its private key, within its validity), and checks that every https prefix's port has one.
    /// </summary>
    private void AddCertificateBindings(List<(string Key, UrlPrefix Prefix)> prefixes)
    {
        try
        {
            for (int i = 0; i < Options.SslCertificates.Count; i++)
            {
                string name = $"HttpSysLiteOptions.SslCertificates[{i}]";
                var binding = Options.SslCertificates[i].ToDriverBinding(name);
                try
                {
                    _driver.Certificates.Set(binding);
                }
                catch (InvalidOperationException ex)
                {
                    throw new InvalidOperationException($"{name}: {ex.Message}", ex);
                }
                _certificateBindings.Add(binding);
            }
            foreach (var (_, prefix) in prefixes)
            {
                if (prefix.IsHttps && prefix.Port != 0 && !_driver.Certificates.HasPort(prefix.Port))
                {
                    throw new InvalidOperationException(
                        $"The https prefix '{prefix}' has no certificate binding for port {prefix.Port}: add one to HttpSysLiteOptions.SslCertificates " +
                        $"(HttpSysLite:SslCertificates:0:IpPort = 0.0.0.0:{prefix.Port}, with Path and KeyPath of a PEM certificate, or a PFX and its Password).");
                }
            }
        }
        catch
        {
            RemoveCertificateBindings();
            throw;
        }
    }

    private void RemoveCertificateBindings()
    {
        foreach (var binding in _certificateBindings)
        {
            _driver.Certificates.Remove(binding);
        }
        _certificateBindings.Clear();
    }

    IReadOnlyList<string> Features.IHttpSysLiteCertificateBindingsFeature.Endpoints
    {
        get
        {
            var endpoints = new List<string>();
            foreach (var binding in _driver.Certificates.All)
            {
                endpoints.Add(binding.Endpoint);
            }
            return endpoints;
        }
    }

    void Features.IHttpSysLiteCertificateBindingsFeature.Set(SslCertificateBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var driverBinding = binding.ToDriverBinding("The certificate binding");
        _driver.Certificates.Set(driverBinding);
        lock (_certificateBindings)
        {
            _certificateBindings.RemoveAll(b => b.SameEndpoint(driverBinding));
            _certificateBindings.Add(driverBinding);
        }
    }

    bool Features.IHttpSysLiteCertificateBindingsFeature.Remove(SslCertificateBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var driverBinding = binding.ToDriverBinding("The certificate binding");
        lock (_certificateBindings)
        {
            _certificateBindings.RemoveAll(b => b.SameEndpoint(driverBinding));
        }
        return _driver.Certificates.Remove(driverBinding);
    }
}
