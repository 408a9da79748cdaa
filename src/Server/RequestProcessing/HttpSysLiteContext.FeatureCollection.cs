using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using System.Collections;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using HttpSysLite.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.Routing;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The features, as explicit interface implementations on the context, with a hand-written lookup
/// (STYLE.md rule 6). A feature the app sets replaces ours for the rest of the request. An absent
/// feature means an absent capability: trailers exist only where the response can still be chunked.
/// </summary>
internal partial class HttpSysLiteContext :
    IFeatureCollection,
    IHttpRequestFeature,
    IHttpResponseFeature,
    IHttpResponseBodyFeature,
    IHttpConnectionFeature,
    IHttpRequestLifetimeFeature,
    IHttpRequestIdentifierFeature,
    IHttpMaxRequestBodySizeFeature,
    IHttpRequestBodyDetectionFeature,
    IHttpBodyControlFeature,
    IHttpUpgradeFeature,
    IHttpResponseTrailersFeature,
    IHttpRequestTrailersFeature,
    IHttpSysLiteResponseFeature,
    IHttpMinRequestBodyDataRateFeature,
    Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestTimingFeature,
    Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestInfoFeature,
    Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestDelegationFeature
{

    // IHttpRequestFeature and friends let the app replace values (URL rewriting, body wrappers).
    private string _protocol = HttpProtocol.Http11;
    private string _scheme = "http";
    private string _method = "GET";
    private string _pathBase = string.Empty;
    private string _path = "/";
    private string _queryString = string.Empty;
    private string _rawTarget = "/";
    private IHeaderDictionary _requestHeadersValue = null!;
    private Stream _requestBodyValue = null!;
    private Stream _responseBodyValue = null!;
    private IHeaderDictionary _responseHeadersValue = null!;
    private CancellationToken? _requestAbortedOverride;
    private string? _traceIdentifier;
    private string? _connectionId;
    private ulong _connectionIdOf;
    private IPAddress? _remoteIpAddress;
    private IPAddress? _localIpAddress;
    private int _remotePort;
    private int _localPort;
    private bool _allowSynchronousIO;

    private void InitializeFeatures()
    {
        ResetFeatures();
        _protocol = ProtocolOf(Request.Version);
        _scheme = Request.Scheme;
        _method = Request.Method;
        _pathBase = Request.PathBase;
        _path = Request.Path;
        _queryString = Request.QueryString;
        _rawTarget = Request.RawTarget;
        _requestHeadersValue = _requestHeaders;
        _requestBodyValue = _requestBody;
        _responseBodyValue = _responseBody;
        _responseHeadersValue = _responseHeaders;
        _requestAbortedOverride = null;
        _traceIdentifier = null;
        var remote = Request.RemoteEndPoint;
        var local = Request.LocalEndPoint;
        _remoteIpAddress = remote.Address;
        _remotePort = remote.Port;
        _localIpAddress = local.Address;
        _localPort = local.Port;
        _allowSynchronousIO = Server.Options.AllowSynchronousIO;
        Request.BufferResponseData = Server.Options.EnableKernelResponseBuffering;
    }

    private string FormatConnectionId()
    {
        _connectionIdOf = Request.ConnectionId;
        return _connectionId = HexIdentifier.Format(_connectionIdOf);
    }

    // ---- IFeatureCollection ----
    //
    // Features are looked up by type a few dozen times per request (hosting, routing, middleware), and
    // middleware sets several each request. The common types have slots, found by comparing type handles
    // in the generic methods (no Type object is made); only other types go through a list keyed by Type.
    // A slot holds what the app set; an empty slot means our own feature (or none).

    /// <summary>The feature types with a slot, in slot order (must match <see cref="SlotOf{TFeature}"/>).</summary>
    internal static readonly Type[] SlotTypes =
    [
        typeof(IHttpRequestFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature),
        typeof(IHttpConnectionFeature), typeof(IHttpRequestLifetimeFeature), typeof(IHttpRequestIdentifierFeature),
        typeof(IHttpMaxRequestBodySizeFeature), typeof(IHttpRequestBodyDetectionFeature), typeof(IHttpBodyControlFeature),
        typeof(IHttpUpgradeFeature), typeof(IHttpSysLiteResponseFeature), typeof(IHttpMinRequestBodyDataRateFeature),
        typeof(IHttpResponseTrailersFeature),
        typeof(IEndpointFeature), typeof(IRouteValuesFeature), typeof(IHttpWebSocketFeature), typeof(IHttpActivityFeature),
        typeof(IHttpMetricsTagsFeature), typeof(IItemsFeature), typeof(IQueryFeature), typeof(IRequestCookiesFeature),
        typeof(IResponseCookiesFeature), typeof(IServiceProvidersFeature), typeof(IHttpAuthenticationFeature),
        typeof(IFormFeature), typeof(IRequestBodyPipeFeature), typeof(ISessionFeature), typeof(IHttpRequestTrailersFeature),
    ];

    /// <summary>
    /// Slots below this are our own features; <see cref="TrailersSlot"/> is ours only while trailers can be
    /// sent; <see cref="RequestTrailersSlot"/> is always ours (as Kestrel's is), past the app-only slots.
    /// </summary>
    private const int OwnSlots = 12;
    private const int TrailersSlot = 12;
    private const int RequestTrailersSlot = 27;

    // A slot is null until the app sets it (so a reset is a clear, with no write barriers); a null the
    // app set (removing our feature) is kept as this marker.
    private static readonly object s_removed = new();

    private readonly object?[] _slots = CreateSlots();
    private List<KeyValuePair<Type, object?>>? _others;
    private int _revision;

    /// <summary>The slot of <typeparamref name="TFeature"/>, or -1. Each comparison is of two type handles.</summary>
    internal static int SlotOf<TFeature>()
    {
        if (typeof(TFeature) == typeof(IHttpRequestFeature)) return 0;
        if (typeof(TFeature) == typeof(IHttpResponseFeature)) return 1;
        if (typeof(TFeature) == typeof(IHttpResponseBodyFeature)) return 2;
        if (typeof(TFeature) == typeof(IHttpConnectionFeature)) return 3;
        if (typeof(TFeature) == typeof(IHttpRequestLifetimeFeature)) return 4;
        if (typeof(TFeature) == typeof(IHttpRequestIdentifierFeature)) return 5;
        if (typeof(TFeature) == typeof(IHttpMaxRequestBodySizeFeature)) return 6;
        if (typeof(TFeature) == typeof(IHttpRequestBodyDetectionFeature)) return 7;
        if (typeof(TFeature) == typeof(IHttpBodyControlFeature)) return 8;
        if (typeof(TFeature) == typeof(IHttpUpgradeFeature)) return 9;
        if (typeof(TFeature) == typeof(IHttpSysLiteResponseFeature)) return 10;
        if (typeof(TFeature) == typeof(IHttpMinRequestBodyDataRateFeature)) return 11;
        if (typeof(TFeature) == typeof(IHttpResponseTrailersFeature)) return 12;
        if (typeof(TFeature) == typeof(IEndpointFeature)) return 13;
        if (typeof(TFeature) == typeof(IRouteValuesFeature)) return 14;
        if (typeof(TFeature) == typeof(IHttpWebSocketFeature)) return 15;
        if (typeof(TFeature) == typeof(IHttpActivityFeature)) return 16;
        if (typeof(TFeature) == typeof(IHttpMetricsTagsFeature)) return 17;
        if (typeof(TFeature) == typeof(IItemsFeature)) return 18;
        if (typeof(TFeature) == typeof(IQueryFeature)) return 19;
        if (typeof(TFeature) == typeof(IRequestCookiesFeature)) return 20;
        if (typeof(TFeature) == typeof(IResponseCookiesFeature)) return 21;
        if (typeof(TFeature) == typeof(IServiceProvidersFeature)) return 22;
        if (typeof(TFeature) == typeof(IHttpAuthenticationFeature)) return 23;
        if (typeof(TFeature) == typeof(IFormFeature)) return 24;
        if (typeof(TFeature) == typeof(IRequestBodyPipeFeature)) return 25;
        if (typeof(TFeature) == typeof(ISessionFeature)) return 26;
        if (typeof(TFeature) == typeof(IHttpRequestTrailersFeature)) return 27;
        return -1;
    }

    private static object?[] CreateSlots() => new object?[SlotTypes.Length];

    private void ResetFeatures()
    {
        Array.Clear(_slots);
        _others?.Clear();
        _revision++;
    }

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            int slot = Array.IndexOf(SlotTypes, key);
            return slot >= 0 ? GetSlot(slot) : GetOther(key);
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            int slot = Array.IndexOf(SlotTypes, key);
            if (slot >= 0)
            {
                if (value is not null && !key.IsInstanceOfType(value))
                {
                    // Checked here, as Kestrel's typed fields check it, so that Get needs no cast.
                    throw new InvalidCastException($"A {value.GetType()} is not a {key}.");
                }
                _slots[slot] = value ?? s_removed;
                _revision++;
            }
            else
            {
                SetOther(key, value);
            }
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default
    {
        int slot = SlotOf<TFeature>();
        if (slot < 0)
        {
            return (TFeature?)GetOther(typeof(TFeature)); // checked as FeatureCollection checks it
        }
        object? value = _slots[slot];
        if (value is null)
        {
            if (slot < OwnSlots || slot == RequestTrailersSlot || (slot == TrailersSlot && (Request.CanHaveTrailers || _responseTrailers is not null)))
            {
                value = this; // one of ours, not replaced: this context implements TFeature
            }
            else
            {
                return default;
            }
        }
        else if (ReferenceEquals(value, s_removed))
        {
            return default;
        }
        // A slot holds this context, what Set<TFeature> stored (a TFeature), or what the indexer stored
        // after checking its type: no cast needed (the cast of shared generic code is a helper call).
        return System.Runtime.CompilerServices.Unsafe.As<object, TFeature>(ref value);
    }

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default
    {
        int slot = SlotOf<TFeature>();
        if (slot >= 0)
        {
            _slots[slot] = (object?)instance ?? s_removed;
            _revision++;
        }
        else
        {
            SetOther(typeof(TFeature), instance);
        }
    }

    private object? GetSlot(int slot)
    {
        object? value = _slots[slot];
        if (value is not null)
        {
            return ReferenceEquals(value, s_removed) ? null : value; // set by the app (null removes ours)
        }
        if (slot < OwnSlots || slot == RequestTrailersSlot)
        {
            return this;
        }
        return slot == TrailersSlot && (Request.CanHaveTrailers || _responseTrailers is not null) ? this : null;
    }

    private object? GetOther(Type key)
    {
        if (_others is not null)
        {
            foreach (var pair in _others)
            {
                if (pair.Key == key)
                {
                    return pair.Value;
                }
            }
        }
        // HttpSys's own request features, and TLS's on an https connection: rarely asked for, so no slot.
        return IsOwnUnslotted(key) ? this : null;
    }

    private bool IsOwnUnslotted(Type key) =>
        key == typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestTimingFeature)
        || key == typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestInfoFeature)
        || key == typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestDelegationFeature)
        || (Request.Tls is not null
            && (key == typeof(ITlsConnectionFeature) || key == typeof(ITlsHandshakeFeature) || key == typeof(ITlsApplicationProtocolFeature)
                || key == typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestPropertyFeature)));

    private void SetOther(Type key, object? value)
    {
        _others ??= new List<KeyValuePair<Type, object?>>();
        _revision++;
        for (int i = 0; i < _others.Count; i++)
        {
            if (_others[i].Key == key)
            {
                _others[i] = new KeyValuePair<Type, object?>(key, value);
                return;
            }
        }
        _others.Add(new KeyValuePair<Type, object?>(key, value));
    }

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        for (int i = 0; i < SlotTypes.Length; i++)
        {
            if (GetSlot(i) is { } feature)
            {
                yield return new KeyValuePair<Type, object>(SlotTypes[i], feature);
            }
        }
        if (_others is not null)
        {
            foreach (var pair in _others)
            {
                if (pair.Value is not null)
                {
                    yield return new KeyValuePair<Type, object>(pair.Key, pair.Value);
                }
            }
        }
        foreach (var key in s_ownUnslotted)
        {
            if (IsOwnUnslotted(key) && !IsSetByApp(key))
            {
                yield return new KeyValuePair<Type, object>(key, this);
            }
        }
    }

    private static readonly Type[] s_ownUnslotted =
    [
        typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestTimingFeature),
        typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestInfoFeature),
        typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestDelegationFeature),
        typeof(ITlsConnectionFeature), typeof(ITlsHandshakeFeature), typeof(ITlsApplicationProtocolFeature),
        typeof(Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestPropertyFeature),
    ];

    private bool IsSetByApp(Type key)
    {
        if (_others is not null)
        {
            foreach (var pair in _others)
            {
                if (pair.Key == key)
                {
                    return true;
                }
            }
        }
        return false;
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    // ---- IHttpRequestFeature ----

    string IHttpRequestFeature.Protocol { get => _protocol; set => _protocol = value; }
    string IHttpRequestFeature.Scheme { get => _scheme; set => _scheme = value; }
    string IHttpRequestFeature.Method { get => _method; set => _method = value; }
    string IHttpRequestFeature.PathBase { get => _pathBase; set => _pathBase = value; }
    string IHttpRequestFeature.Path { get => _path; set => _path = value; }
    string IHttpRequestFeature.QueryString { get => _queryString; set => _queryString = value; }
    string IHttpRequestFeature.RawTarget { get => _rawTarget; set => _rawTarget = value; }
    IHeaderDictionary IHttpRequestFeature.Headers { get => _requestHeadersValue; set => _requestHeadersValue = value; }
    Stream IHttpRequestFeature.Body { get => _requestBodyValue; set => _requestBodyValue = value; }

    // ---- IHttpResponseFeature ----

    int IHttpResponseFeature.StatusCode
    {
        get => Request.StatusCode;
        set
        {
            ThrowIfStarted(nameof(IHttpResponseFeature.StatusCode));
            Request.StatusCode = value;
        }
    }

    string? IHttpResponseFeature.ReasonPhrase
    {
        get => Request.ReasonPhrase;
        set
        {
            ThrowIfStarted(nameof(IHttpResponseFeature.ReasonPhrase));
            Request.ReasonPhrase = value;
        }
    }

    IHeaderDictionary IHttpResponseFeature.Headers { get => _responseHeadersValue; set => _responseHeadersValue = value; }

    [Obsolete("Use IHttpResponseBodyFeature.Stream instead.")]
    Stream IHttpResponseFeature.Body { get => _responseBodyValue; set => _responseBodyValue = value; }

    bool IHttpResponseFeature.HasStarted => Request.HasStarted;

    void IHttpResponseFeature.OnStarting(Func<object, Task> callback, object state)
    {
        if (Request.HasStarted)
        {
            throw new InvalidOperationException("OnStarting cannot be registered after the response has started.");
        }
        (_onStarting ??= new()).Add(new(callback, state));
    }

    void IHttpResponseFeature.OnCompleted(Func<object, Task> callback, object state) =>
        (_onCompleted ??= new()).Add(new(callback, state));

    private void ThrowIfStarted(string property)
    {
        if (Request.HasStarted)
        {
            throw new InvalidOperationException($"{property} cannot be set because the response has already started.");
        }
    }

    // ---- IHttpResponseBodyFeature ----

    Stream IHttpResponseBodyFeature.Stream => _responseBody;

    PipeWriter IHttpResponseBodyFeature.Writer => _responseWriter;

    void IHttpResponseBodyFeature.DisableBuffering() =>
        Request.BufferResponseData = false; // HttpSys's meaning: send without BUFFER_DATA from now on

    // ---- IHttpSysLiteResponseFeature ----

    bool IHttpSysLiteResponseFeature.EnableKernelResponseBuffering
    {
        get => Request.BufferResponseData;
        set => Request.BufferResponseData = value;
    }

    async Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync().ConfigureAwait(false);
        await Request.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(_responseBody, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => CompleteAsync().AsTask();

    // ---- IHttpConnectionFeature ----

    string IHttpConnectionFeature.ConnectionId
    {
        // Kept while the connection is the same: a context serves many connections in turn (pooled).
        get => _connectionId is not null && _connectionIdOf == Request.ConnectionId ? _connectionId : FormatConnectionId();
        set
        {
            _connectionId = value;
            _connectionIdOf = Request.ConnectionId;
        }
    }

    IPAddress? IHttpConnectionFeature.RemoteIpAddress { get => _remoteIpAddress; set => _remoteIpAddress = value; }
    IPAddress? IHttpConnectionFeature.LocalIpAddress { get => _localIpAddress; set => _localIpAddress = value; }
    int IHttpConnectionFeature.RemotePort { get => _remotePort; set => _remotePort = value; }
    int IHttpConnectionFeature.LocalPort { get => _localPort; set => _localPort = value; }

    // ---- IHttpRequestLifetimeFeature ----

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _requestAbortedOverride ?? Request.RequestAborted;
        set => _requestAbortedOverride = value;
    }

    void IHttpRequestLifetimeFeature.Abort() => Request.Abort();

    // ---- IHttpRequestIdentifierFeature ----

    string IHttpRequestIdentifierFeature.TraceIdentifier
    {
        get => _traceIdentifier ??= HexIdentifier.Format(Request.RequestId);
        set => _traceIdentifier = value;
    }

    // ---- IHttpMaxRequestBodySizeFeature ----

    bool IHttpMaxRequestBodySizeFeature.IsReadOnly => Request.HasStartedReadingBody || Request.IsUpgradableRequest && Request.HasStarted;

    long? IHttpMaxRequestBodySizeFeature.MaxRequestBodySize
    {
        get => Request.MaxRequestBodySize;
        set
        {
            if (Request.HasStartedReadingBody)
            {
                throw new InvalidOperationException("The maximum request body size cannot be modified after the app has already started reading from the request body.");
            }
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "The value must be null or at least 0.");
            }
            Request.MaxRequestBodySize = value;
        }
    }

    // ---- IHttpMinRequestBodyDataRateFeature (Kestrel's, so an app that tunes it per request works unchanged) ----

    MinDataRate? IHttpMinRequestBodyDataRateFeature.MinDataRate
    {
        get => Request.MinBodyBytesPerSecond > 0 ? new MinDataRate(Request.MinBodyBytesPerSecond, Request.MinBodyGracePeriod) : null;
        set
        {
            Request.MinBodyBytesPerSecond = value?.BytesPerSecond ?? 0; // null: no minimum for this request
            Request.MinBodyGracePeriod = value?.GracePeriod ?? TimeSpan.Zero;
        }
    }

    // ---- IHttpRequestBodyDetectionFeature ----

    bool IHttpRequestBodyDetectionFeature.CanHaveBody => Request.HasRequestBody;

    // ---- IHttpBodyControlFeature ----

    bool IHttpBodyControlFeature.AllowSynchronousIO { get => _allowSynchronousIO; set => _allowSynchronousIO = value; }

    internal bool AllowSynchronousIO => _allowSynchronousIO;

    // ---- IHttpSysRequestDelegationFeature: HttpDelegateRequestEx ----

    bool Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestDelegationFeature.CanDelegate => Request.CanDelegate;

    void Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestDelegationFeature.DelegateRequest(Microsoft.AspNetCore.Server.HttpSys.DelegationRule destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        // The driver takes the request whole once the app returns; nothing more of a response is written here.
        Request.Delegate(destination.QueueName, destination.UrlPrefix);
    }

    // ---- IHttpUpgradeFeature ----

    bool IHttpUpgradeFeature.IsUpgradableRequest => Request.IsUpgradableRequest;

    async Task<Stream> IHttpUpgradeFeature.UpgradeAsync()
    {
        if (!Request.IsUpgradableRequest)
        {
            throw new InvalidOperationException("Cannot upgrade a non-upgradable request. Check IHttpUpgradeFeature.IsUpgradableRequest first.");
        }
        if (Request.HasStarted)
        {
            throw new InvalidOperationException("Cannot upgrade: the response has already started.");
        }
        Request.StatusCode = StatusCodes.Status101SwitchingProtocols;
        Request.ReasonPhrase = null;
        await EnsureStartedAsync().ConfigureAwait(false);
        return await Request.UpgradeAsync().ConfigureAwait(false);
    }

    // ---- IHttpRequestTrailersFeature: the trailer section of a chunked body, as Kestrel offers it ----

    bool IHttpRequestTrailersFeature.Available => Request.IsRequestBodyComplete;

    IHeaderDictionary IHttpRequestTrailersFeature.Trailers => Request.IsRequestBodyComplete
        ? TakeRequestTrailers()
        : throw new InvalidOperationException("The request trailers are not available yet. They may not be available until the full request body is read.");

    // ---- IHttpResponseTrailersFeature ----

    IHeaderDictionary IHttpResponseTrailersFeature.Trailers
    {
        get => _responseTrailers ??= new HeaderCollection();
        set => throw new NotSupportedException("Replace trailer values, not the trailer collection.");
    }
}
