using System.Collections;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using HttpSysLite.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

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
    IHttpSysLiteResponseFeature
{
    private List<KeyValuePair<Type, object?>>? _overrides;
    private int _revision;

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
    private IPAddress? _remoteIpAddress;
    private IPAddress? _localIpAddress;
    private int _remotePort;
    private int _localPort;
    private bool _allowSynchronousIO;

    private void InitializeFeatures()
    {
        _overrides?.Clear();
        _revision++;
        _protocol = ProtocolOf(_request.Version);
        _scheme = _request.Scheme;
        _method = _request.Method;
        _pathBase = _request.PathBase;
        _path = _request.Path;
        _queryString = _request.QueryString;
        _rawTarget = _request.RawTarget;
        _requestHeadersValue = _requestHeaders;
        _requestBodyValue = _requestBody;
        _responseBodyValue = _responseBody;
        _responseHeadersValue = _responseHeaders;
        _requestAbortedOverride = null;
        _traceIdentifier = null;
        var remote = _request.RemoteEndPoint;
        var local = _request.LocalEndPoint;
        _remoteIpAddress = remote.Address;
        _remotePort = remote.Port;
        _localIpAddress = local.Address;
        _localPort = local.Port;
        _allowSynchronousIO = Server.Options.AllowSynchronousIO;
        _request.BufferResponseData = Server.Options.EnableKernelResponseBuffering;
    }

    // ---- IFeatureCollection ----

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get => GetFeature(key);
        set => SetFeature(key, value);
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)GetFeature(typeof(TFeature));

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => SetFeature(typeof(TFeature), instance);

    private object? GetFeature(Type key)
    {
        if (_overrides is { Count: > 0 })
        {
            foreach (var pair in _overrides)
            {
                if (pair.Key == key)
                {
                    return pair.Value;
                }
            }
        }
        if (key == typeof(IHttpRequestFeature) || key == typeof(IHttpResponseFeature) || key == typeof(IHttpResponseBodyFeature)
            || key == typeof(IHttpConnectionFeature) || key == typeof(IHttpRequestLifetimeFeature)
            || key == typeof(IHttpRequestIdentifierFeature) || key == typeof(IHttpMaxRequestBodySizeFeature)
            || key == typeof(IHttpRequestBodyDetectionFeature) || key == typeof(IHttpBodyControlFeature)
            || key == typeof(IHttpUpgradeFeature) || key == typeof(IHttpSysLiteResponseFeature))
        {
            return this;
        }
        if (key == typeof(IHttpResponseTrailersFeature))
        {
            return _request.CanHaveTrailers || _responseTrailers is not null ? this : null;
        }
        return null;
    }

    private void SetFeature(Type key, object? value)
    {
        _overrides ??= new List<KeyValuePair<Type, object?>>();
        for (int i = 0; i < _overrides.Count; i++)
        {
            if (_overrides[i].Key == key)
            {
                _overrides[i] = new KeyValuePair<Type, object?>(key, value);
                _revision++;
                return;
            }
        }
        _overrides.Add(new KeyValuePair<Type, object?>(key, value));
        _revision++;
    }

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        var seen = new HashSet<Type>();
        if (_overrides is not null)
        {
            foreach (var pair in _overrides)
            {
                seen.Add(pair.Key);
                if (pair.Value is not null)
                {
                    yield return new KeyValuePair<Type, object>(pair.Key, pair.Value);
                }
            }
        }
        foreach (var type in s_ownFeatures)
        {
            if (!seen.Contains(type) && GetFeature(type) is { } feature)
            {
                yield return new KeyValuePair<Type, object>(type, feature);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private static readonly Type[] s_ownFeatures =
    [
        typeof(IHttpRequestFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature),
        typeof(IHttpConnectionFeature), typeof(IHttpRequestLifetimeFeature), typeof(IHttpRequestIdentifierFeature),
        typeof(IHttpMaxRequestBodySizeFeature), typeof(IHttpRequestBodyDetectionFeature), typeof(IHttpBodyControlFeature),
        typeof(IHttpUpgradeFeature), typeof(IHttpResponseTrailersFeature), typeof(IHttpSysLiteResponseFeature),
    ];

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
        get => _request.StatusCode;
        set
        {
            ThrowIfStarted(nameof(IHttpResponseFeature.StatusCode));
            _request.StatusCode = value;
        }
    }

    string? IHttpResponseFeature.ReasonPhrase
    {
        get => _request.ReasonPhrase;
        set
        {
            ThrowIfStarted(nameof(IHttpResponseFeature.ReasonPhrase));
            _request.ReasonPhrase = value;
        }
    }

    IHeaderDictionary IHttpResponseFeature.Headers { get => _responseHeadersValue; set => _responseHeadersValue = value; }

    [Obsolete("Use IHttpResponseBodyFeature.Stream instead.")]
    Stream IHttpResponseFeature.Body { get => _responseBodyValue; set => _responseBodyValue = value; }

    bool IHttpResponseFeature.HasStarted => _request.HasStarted;

    void IHttpResponseFeature.OnStarting(Func<object, Task> callback, object state)
    {
        if (_request.HasStarted)
        {
            throw new InvalidOperationException("OnStarting cannot be registered after the response has started.");
        }
        (_onStarting ??= new()).Add(new(callback, state));
    }

    void IHttpResponseFeature.OnCompleted(Func<object, Task> callback, object state) =>
        (_onCompleted ??= new()).Add(new(callback, state));

    private void ThrowIfStarted(string property)
    {
        if (_request.HasStarted)
        {
            throw new InvalidOperationException($"{property} cannot be set because the response has already started.");
        }
    }

    // ---- IHttpResponseBodyFeature ----

    Stream IHttpResponseBodyFeature.Stream => _responseBody;

    PipeWriter IHttpResponseBodyFeature.Writer => _responseWriter;

    void IHttpResponseBodyFeature.DisableBuffering() =>
        _request.BufferResponseData = false; // HttpSys's meaning: send without BUFFER_DATA from now on

    // ---- IHttpSysLiteResponseFeature ----

    bool IHttpSysLiteResponseFeature.EnableKernelResponseBuffering
    {
        get => _request.BufferResponseData;
        set => _request.BufferResponseData = value;
    }

    async Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync().ConfigureAwait(false);
        await _request.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(_responseBody, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => CompleteAsync().AsTask();

    // ---- IHttpConnectionFeature ----

    string IHttpConnectionFeature.ConnectionId
    {
        get => _connectionId ??= _request.ConnectionId.ToString("X16", CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    IPAddress? IHttpConnectionFeature.RemoteIpAddress { get => _remoteIpAddress; set => _remoteIpAddress = value; }
    IPAddress? IHttpConnectionFeature.LocalIpAddress { get => _localIpAddress; set => _localIpAddress = value; }
    int IHttpConnectionFeature.RemotePort { get => _remotePort; set => _remotePort = value; }
    int IHttpConnectionFeature.LocalPort { get => _localPort; set => _localPort = value; }

    // ---- IHttpRequestLifetimeFeature ----

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _requestAbortedOverride ?? _request.RequestAborted;
        set => _requestAbortedOverride = value;
    }

    void IHttpRequestLifetimeFeature.Abort() => _request.Abort();

    // ---- IHttpRequestIdentifierFeature ----

    string IHttpRequestIdentifierFeature.TraceIdentifier
    {
        get => _traceIdentifier ??= _request.RequestId.ToString("X16", CultureInfo.InvariantCulture);
        set => _traceIdentifier = value;
    }

    // ---- IHttpMaxRequestBodySizeFeature ----

    bool IHttpMaxRequestBodySizeFeature.IsReadOnly => _request.HasStartedReadingBody || _request.IsUpgradableRequest && _request.HasStarted;

    long? IHttpMaxRequestBodySizeFeature.MaxRequestBodySize
    {
        get => _request.MaxRequestBodySize;
        set
        {
            if (_request.HasStartedReadingBody)
            {
                throw new InvalidOperationException("The maximum request body size cannot be modified after the app has already started reading from the request body.");
            }
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "The value must be null or at least 0.");
            }
            _request.MaxRequestBodySize = value;
        }
    }

    // ---- IHttpRequestBodyDetectionFeature ----

    bool IHttpRequestBodyDetectionFeature.CanHaveBody => _request.HasRequestBody;

    // ---- IHttpBodyControlFeature ----

    bool IHttpBodyControlFeature.AllowSynchronousIO { get => _allowSynchronousIO; set => _allowSynchronousIO = value; }

    internal bool AllowSynchronousIO => _allowSynchronousIO;

    // ---- IHttpUpgradeFeature ----

    bool IHttpUpgradeFeature.IsUpgradableRequest => _request.IsUpgradableRequest;

    async Task<Stream> IHttpUpgradeFeature.UpgradeAsync()
    {
        if (!_request.IsUpgradableRequest)
        {
            throw new InvalidOperationException("Cannot upgrade a non-upgradable request. Check IHttpUpgradeFeature.IsUpgradableRequest first.");
        }
        if (_request.HasStarted)
        {
            throw new InvalidOperationException("Cannot upgrade: the response has already started.");
        }
        _request.StatusCode = StatusCodes.Status101SwitchingProtocols;
        _request.ReasonPhrase = null;
        await EnsureStartedAsync().ConfigureAwait(false);
        return await _request.UpgradeAsync().ConfigureAwait(false);
    }

    // ---- IHttpResponseTrailersFeature ----

    IHeaderDictionary IHttpResponseTrailersFeature.Trailers
    {
        get => _responseTrailers ??= new HeaderCollection();
        set => throw new NotSupportedException("Replace trailer values, not the trailer collection.");
    }
}
