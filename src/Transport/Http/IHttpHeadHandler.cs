namespace HttpSysLite.Transport.Http;

/// <summary>
/// Receives the pieces of a request head from <see cref="HttpParser"/>. Called only once the whole head
/// is buffered and valid up to the current element; the spans are valid only during the call.
/// </summary>
public interface IHttpHeadHandler
{
    /// <summary>The request line, already validated for syntax.</summary>
    void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version);

    /// <summary>One header field; the value has its surrounding whitespace removed.</summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
