using HttpSysLite.Transport.Http;

namespace HttpSysLite.Bench.Micro;

/// <summary>Takes the parser's callbacks and keeps nothing, so a benchmark measures the parser alone.</summary>
internal struct NullHeadHandler : IHttpHeadHandler
{
    public int Headers;

    public void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version)
    {
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Headers++;
}
