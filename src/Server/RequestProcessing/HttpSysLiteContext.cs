using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Output;
using HttpSysLite.Transport.Sockets;
using Microsoft.AspNetCore.Http;
using HttpVersion = HttpSysLite.Transport.Http.HttpVersion;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The ASP.NET Core view of one driver request: the feature collection the app's HttpContext is built
/// on. One per connection and server, reset for each keep-alive request. Owned by the request's loop.
/// </summary>
internal partial class HttpSysLiteContext : IResponseHeaderSource, IDisposable
{
    // The driver's request; null once disposed (its driver context went back to the pool).
    private IQueuedRequest? _request;
    private readonly HeaderCollection _requestHeaders = new();
    private readonly HeaderCollection _responseHeaders = new();
    private readonly RequestBodyStream _requestBody;
    private readonly ResponseBodyStream _responseBody;
    private readonly ResponseBodyPipeWriter _responseWriter;
    private HeaderCollection? _responseTrailers;
    private HeaderCollection? _requestTrailers;
    private bool _requestTrailersTaken;
    private List<KeyValuePair<Func<object, Task>, object>>? _onStarting;
    private List<KeyValuePair<Func<object, Task>, object>>? _onCompleted;

    public HttpSysLiteContext(HttpSysLiteServer server, IQueuedRequest request)
    {
        Server = server;
        _request = request;
        _requestBody = new RequestBodyStream(this);
        _responseBody = new ResponseBodyStream(this);
        _responseWriter = new ResponseBodyPipeWriter(this);
    }

    public HttpSysLiteServer Server { get; }

    /// <summary>The driver's request this context serves.</summary>
    /// <exception cref="ObjectDisposedException">The context was ended: a reference kept past its request.</exception>
    public IQueuedRequest Request => _request ?? throw new ObjectDisposedException(nameof(HttpSysLiteContext), "The request this object belonged to has ended.");

    /// <summary>
    /// Ends the context for good, when the driver recycles the request it served: whatever the app kept
    /// of it (a stream, a feature, the HttpContext) then throws ObjectDisposedException instead of
    /// reaching a later request on another connection.
    /// </summary>
    public void Dispose()
    {
        _request = null;
        HostContextEnded();
    }

    /// <summary>Lets the derived type drop hosting's context with the rest.</summary>
    protected virtual void HostContextEnded()
    {
    }

    public bool ThrowWriteExceptions => Server.Options.ThrowWriteExceptions;

    /// <summary>Resets every per-request field for the request the driver just delivered.</summary>
    public void Initialize()
    {
        Request.MaxRequestBodySize = Server.Options.MaxRequestBodySize;
        Request.MinBodyBytesPerSecond = Server.Options.MinRequestBodyBytesPerSecond;
        Request.MinBodyGracePeriod = Server.Options.MinRequestBodyGracePeriod;

        _requestHeaders.CopyFrom(Request.Headers, Server.Options.UseLatin1RequestHeaders);
        _requestTrailersTaken = false;
        _clientCertificateOverride = null;
        _clientCertificateSet = false;
        _clientCertificateTask = null;

        _responseHeaders.IsReadOnly = false;
        _responseHeaders.Clear();
        if (_responseTrailers is not null)
        {
            _responseTrailers.IsReadOnly = false;
            _responseTrailers.Clear();
        }
        _onStarting?.Clear();
        _onCompleted?.Clear();
        _responseWriter.Reset();
        InitializeFeatures();
    }

    /// <summary>
    /// The request's trailer fields as the app sees them: copied from the driver's once per request, on the
    /// first look after the body ended (so a request that never looks costs nothing), then read-only.
    /// </summary>
    private HeaderCollection TakeRequestTrailers()
    {
        var trailers = _requestTrailers ??= new HeaderCollection("The request trailers are what the client sent and cannot be modified.");
        if (!_requestTrailersTaken)
        {
            trailers.IsReadOnly = false;
            trailers.CopyFrom(Request.Trailers, Server.Options.UseLatin1RequestHeaders);
            trailers.IsReadOnly = true;
            _requestTrailersTaken = true;
        }
        return trailers;
    }

    /// <summary>Fires OnStarting (last registered first), fixes the headers, and starts the driver's response.</summary>
    public ValueTask EnsureStartedAsync()
    {
        // The driver's response state decides: past Created it has started, its OnStarting callbacks run
        // (a callback's write must not start it again), or the request has ended (the write is refused).
        if (!Request.TryBeginStarting())
        {
            return ValueTask.CompletedTask;
        }
        if (_onStarting is null || _onStarting.Count == 0)
        {
            Start();
            return ValueTask.CompletedTask;
        }
        return FireOnStartingThenStartAsync();
    }

    private async ValueTask FireOnStartingThenStartAsync()
    {
        try
        {
            var callbacks = _onStarting!;
            for (int i = callbacks.Count - 1; i >= 0; i--)
            {
                await callbacks[i].Key(callbacks[i].Value).ConfigureAwait(false);
            }
        }
        catch
        {
            Request.EndStarting(); // not started: the error policy can still answer 500
            throw;
        }
        Start();
    }

    private void Start()
    {
        try
        {
            // The policy first: the driver decides at start whether to copy the body aside. Then the driver
            // takes the headers, checking each field (ResponseHeaderWriter is the one place that validates).
            Request.CachePolicy = Request.IsCacheableRequest && Server.Options.EnableResponseCaching && ResponseHeaders.CacheControl.Count > 0
                ? ResponseCachePolicy.Compute(ResponseHeaders)
                : null;
            Request.StartResponse(this);
            _responseHeaders.IsReadOnly = true;
        }
        finally
        {
            Request.EndStarting(); // a no-op once started; after a bad header, back to Created for the 500
        }
    }

    /// <summary>Ends the response after the app returned.</summary>
    public async ValueTask CompleteAsync()
    {
        if (Request.IsResponseCompleted)
        {
            return;
        }
        await EnsureStartedAsync().ConfigureAwait(false);
        if (_responseTrailers is not null)
        {
            _responseTrailers.IsReadOnly = true; // the driver checks them before the last chunk goes out
        }
        try
        {
            await Request.CompleteAsync().ConfigureAwait(false);
        }
        catch (ConnectionResetException ex)
        {
            HttpSysLiteServer.Log.WriteFailed(Server.Logger, ex);
            Request.Abort();
        }
    }

    /// <summary>The policy for an app exception (see <see cref="ApplicationDispatcher{TContext}"/>).</summary>
    public async ValueTask OnApplicationErrorAsync(Exception exception)
    {
        if (exception is ConnectionResetException || (exception is OperationCanceledException && Request.RequestAborted.IsCancellationRequested))
        {
            HttpSysLiteServer.Log.WriteFailed(Server.Logger, exception);
            Request.Abort();
            return;
        }
        HttpSysLiteServer.Log.ApplicationError(Server.Logger, exception);
        if (Request.IsResponseCompleted)
        {
            return; // already whole (BodyWriter.Complete(ex) sent the 500, then the app rethrew): nothing to cut short
        }
        if (Request.HasStarted)
        {
            Request.Abort(); // part of a response is out; ending it cleanly would pass a truncated body off as whole
            return;
        }

        Request.DiscardResponseBody();
        _responseHeadersValue = _responseHeaders;
        _responseHeaders.Clear();
        Request.StatusCode = exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        Request.ReasonPhrase = null;
        _onStarting?.Clear(); // the app's callbacks belong to the response it failed to produce
        await CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Answers 503 while the server stops, and closes the connection.</summary>
    public async ValueTask SendServiceUnavailableAsync()
    {
        Request.StatusCode = StatusCodes.Status503ServiceUnavailable;
        _responseHeaders["Connection"] = "close";
        await CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Runs the OnCompleted callbacks, last registered first; most requests have none (no state machine then).</summary>
    public ValueTask FireOnCompletedAsync() => _onCompleted is { Count: > 0 } ? FireOnCompletedCoreAsync(_onCompleted) : default;

    private async ValueTask FireOnCompletedCoreAsync(List<KeyValuePair<Func<object, Task>, object>> callbacks)
    {
        for (int i = callbacks.Count - 1; i >= 0; i--)
        {
            try
            {
                await callbacks[i].Key(callbacks[i].Value).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                HttpSysLiteServer.Log.CallbackError(Server.Logger, ex);
            }
        }
    }

    /// <summary>The response headers in force: ours, unless the app replaced the collection.</summary>
    private IHeaderDictionary ResponseHeaders => _responseHeadersValue;

    long? IResponseHeaderSource.ContentLength => ResponseHeaders.ContentLength;

    bool IResponseHeaderSource.HasTrailers => _responseTrailers is { Count: > 0 };

    void IResponseHeaderSource.WriteHeaders(ResponseHeaderWriter writer)
    {
        if (ReferenceEquals(_responseHeadersValue, _responseHeaders))
        {
            Write(_responseHeaders, writer); // the struct enumerator: no allocation
        }
        else
        {
            foreach (var header in _responseHeadersValue)
            {
                foreach (string? value in header.Value)
                {
                    if (value is not null)
                    {
                        writer.Append(header.Key, value);
                    }
                }
            }
        }
    }

    void IResponseHeaderSource.WriteTrailers(ResponseHeaderWriter writer)
    {
        if (_responseTrailers is not null)
        {
            Write(_responseTrailers, writer);
        }
    }

    private static void Write(HeaderCollection headers, ResponseHeaderWriter writer)
    {
        foreach (var header in headers)
        {
            foreach (string? value in header.Value)
            {
                if (value is not null)
                {
                    writer.Append(header.Key, value);
                }
            }
        }
    }

    private static string ProtocolOf(HttpVersion version) =>
        version == HttpVersion.Http11 ? HttpProtocol.Http11 : HttpProtocol.Http10;
}
