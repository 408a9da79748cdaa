using System.Buffers;
using System.Globalization;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Transport.Caching;

/// <summary>
/// Copies the body of a response the server marked cacheable aside as it is written and, once the
/// response is whole, builds its cache entry and stores it (docs/design.md section 5). A response is whole
/// when its declared Content-Length is written, or when the app finished without flushing (its length
/// is then what it wrote). Trailers, an early flush without a declared length, or a body larger than
/// MaxEntryBytes end the capture: such a response is not stored.
/// One per connection, reset for each response; used only by the request's own loop.
/// </summary>
internal sealed class ResponseCapture
{
    private readonly RequestContext _request;
    private ResponseCache? _cache;
    private IResponseHeaderSource? _headers;
    private bool _active;
    private byte[]? _body;
    private int _captured;

    public ResponseCapture(RequestContext request) => _request = request;

    /// <summary>True while body bytes are copied aside: the capture is on and the body's length is known.</summary>
    public bool IsCopying => _active && _body is not null;

    public void Reset()
    {
        _headers = null;
        _cache = null;
        _active = false;
        _body = null;
        _captured = 0;
    }

    /// <summary>Called as the response starts: begins a capture if the request, the policy and the status allow one.</summary>
    public void Begin(IResponseHeaderSource headers, ResponseCache cache)
    {
        int status = _request.StatusCode;
        // RFC 9111 section 3 and HTTP.sys: no partial content, no 304, no trailers (a stored head cannot carry them).
        _active = _request.CachePolicy is not null && _request.IsCacheableRequest && !headers.HasTrailers
            && status >= 200 && status != 206 && status != 304;
        if (!_active)
        {
            return;
        }
        _headers = headers;
        _cache = cache;
        if (headers.ContentLength is long length)
        {
            if (length > cache.MaxEntryBytes)
            {
                _active = false;
                return;
            }
            _body = new byte[length];
        }
        // Unknown length: captured from the pending buffer if the app finishes without flushing.
    }

    /// <summary>An early flush: without a declared length the response was not whole when its head went out.</summary>
    public void OnFlush()
    {
        if (_body is null)
        {
            _active = false;
        }
    }

    /// <summary>
    /// The app finished without flushing and the head says Content-Length = <paramref name="length"/>:
    /// the whole body is in the pending buffer, so moving it to the output copies it aside as well.
    /// </summary>
    public void OnWholeBodyPending(int length)
    {
        if (_active && _body is null && length <= _cache!.MaxEntryBytes)
        {
            _body = new byte[length];
        }
    }

    /// <summary>
    /// Copies body bytes aside. When <paramref name="lengthFramed"/> (the head is out with a Content-Length)
    /// and the last byte has come, the response is whole: it is stored now, before the flush that sends it,
    /// so a client that asks again at once already finds it.
    /// </summary>
    public void Append(ReadOnlySpan<byte> data, bool lengthFramed)
    {
        if (_body is null || _captured + data.Length > _body.Length)
        {
            _active = false;
            return;
        }
        data.CopyTo(_body.AsSpan(_captured));
        _captured += data.Length;
        if (_captured == _body.Length && lengthFramed)
        {
            _active = false;
            Store();
        }
    }

    /// <summary>Serialises the response once more, without its per-response headers, and stores it.</summary>
    private void Store()
    {
        var request = _request;
        var headers = _headers!;
        var policy = request.CachePolicy!;
        var writer = new ResponseHeaderWriter { OmitPerResponseHeaders = true };

        var head = new ArrayBufferWriter<byte>(256);
        head.Write(request.ReasonPhrase is null ? ReasonPhrases.StatusLine(request.StatusCode) : ReasonPhrases.Build(request.StatusCode, request.ReasonPhrase));
        writer.Reset(head);
        headers.WriteHeaders(writer);
        if (headers.ContentLength is null)
        {
            writer.Append("Content-Length", _captured.ToString(CultureInfo.InvariantCulture));
        }
        if (!writer.HasServer)
        {
            head.Write(RequestContext.ServerHeaderLine);
        }

        // RFC 9110 section 15.4.5: a 304 repeats the validators and the caching headers.
        var notModified = new ArrayBufferWriter<byte>(128);
        notModified.Write(ReasonPhrases.StatusLine(304));
        writer.Reset(notModified);
        if (policy.ETag is not null)
        {
            writer.Append("ETag", policy.ETag);
        }
        if (policy.CacheControl is not null)
        {
            writer.Append("Cache-Control", policy.CacheControl);
        }
        if (policy.Expires is not null)
        {
            writer.Append("Expires", policy.Expires);
        }
        if (policy.LastModified is { } lastModified)
        {
            writer.Append("Last-Modified", lastModified.ToString("r", CultureInfo.InvariantCulture));
        }
        notModified.Write(RequestContext.ServerHeaderLine);

        Span<char> key = stackalloc char[HttpConnection.MaxCacheKeyLength];
        int length = ResponseCache.WriteKey(key, request.Host, request.LocalEndPoint.Port, request.CanonicalPath, request.QueryString, request.IsHttps);
        if (length > 0)
        {
            var entry = new CacheEntry(new string(key[..length]), request.StatusCode, head.WrittenSpan.ToArray(), _body!,
                notModified.WrittenSpan.ToArray(), policy, request.Registration?.Group);
            _cache!.Store(entry);
            var log = Diagnostics.HttpSysLiteEventSource.Log;
            if (log.IsEnabled())
            {
                log.AddedCacheEntry(entry.Key, request.StatusCode, request.Method, head.WrittenCount, _body!.Length,
                    DateTimeOffset.UtcNow.Add(policy.TimeToLive).ToString("O", CultureInfo.InvariantCulture));
            }
        }
    }
}
