using HttpSysLite.Transport.Caching;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// A response head as the driver receives it from an app process (HTTP_RESPONSE): what the driver's
/// RequestContext takes to start the response, and later the trailers. Its fields were checked by the
/// app's side as they were written, and are checked again here as every response's are. One per
/// request slot of a channel, reused.
/// </summary>
public sealed class ReceivedResponseHead : IResponseHeaderSource
{
    private readonly List<KeyValuePair<string, string>> _headers = new();
    private readonly List<KeyValuePair<string, string>> _trailers = new();

    /// <summary>The status code.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>The reason phrase, or null for the standard one.</summary>
    public string? ReasonPhrase { get; internal set; }

    /// <summary>HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA: body bytes wait until flushed or complete.</summary>
    public bool BufferResponseData { get; internal set; }

    /// <summary>How the cache may keep the response, or null.</summary>
    public CachePolicy? CachePolicy { get; internal set; }

    /// <inheritdoc />
    public long? ContentLength { get; internal set; }

    /// <inheritdoc />
    public bool HasTrailers { get; internal set; }

    /// <summary>The header fields, in the order the app wrote them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>The trailer fields, once the response's end has arrived.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => _trailers;

    /// <inheritdoc />
    public void WriteHeaders(ResponseHeaderWriter writer)
    {
        foreach (var field in _headers)
        {
            writer.Append(field.Key, field.Value);
        }
    }

    /// <inheritdoc />
    public void WriteTrailers(ResponseHeaderWriter writer)
    {
        foreach (var field in _trailers)
        {
            writer.Append(field.Key, field.Value);
        }
    }

    internal void Reset()
    {
        _headers.Clear();
        _trailers.Clear();
        ReasonPhrase = null;
        CachePolicy = null;
        ContentLength = null;
        HasTrailers = false;
        BufferResponseData = false;
    }

    internal List<KeyValuePair<string, string>> HeaderList => _headers;

    internal List<KeyValuePair<string, string>> TrailerList => _trailers;
}
