using System.Text;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>Records what the parser reports, as strings, for comparison.</summary>
internal struct RecordingHandler : IHttpHeadHandler
{
    public string? Method;
    public string? Target;
    public HttpVersion Version;
    public List<(string Name, string Value)> Headers;

    public void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version)
    {
        Method = Encoding.ASCII.GetString(method);
        Target = Encoding.ASCII.GetString(target);
        Version = version;
        Headers ??= new();
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        (Headers ??= new()).Add((Encoding.ASCII.GetString(name), Encoding.Latin1.GetString(value)));
    }
}
