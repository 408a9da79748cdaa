using System.Buffers;
using BenchmarkDotNet.Attributes;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Bench.Micro;

/// <summary>The head parser on a TechEmpower-style plaintext request, in one segment and split.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    /// <summary>The request TechEmpower's plaintext test sends.</summary>
    public static readonly byte[] Request =
        ("GET /plaintext HTTP/1.1\r\n" +
         "Host: localhost:8080\r\n" +
         "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
         "Connection: keep-alive\r\n" +
         "\r\n").Select(c => (byte)c).ToArray();

    private readonly HttpParserLimits _limits = HttpParserLimits.Default;
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _split;
    private ReadOnlySequence<byte> _fragmented;
    private RequestHeaders _headers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _single = new ReadOnlySequence<byte>(Request);
        _split = Segments.Split(Request, Request.Length / 2 + 1);
        _fragmented = Segments.Split(Request, 16);
        _headers = new RequestHeaders();
    }

    [Benchmark(Baseline = true)]
    public int SingleSegment()
    {
        var handler = new NullHeadHandler();
        HttpParser.ParseHead(_single, ref handler, _limits, out _, out _);
        return handler.Headers;
    }

    [Benchmark]
    public int TwoSegments()
    {
        var handler = new NullHeadHandler();
        HttpParser.ParseHead(_split, ref handler, _limits, out _, out _);
        return handler.Headers;
    }

    [Benchmark]
    public int SixteenByteSegments()
    {
        var handler = new NullHeadHandler();
        HttpParser.ParseHead(_fragmented, ref handler, _limits, out _, out _);
        return handler.Headers;
    }

    /// <summary>Parse plus header storage, as the connection does it: repeated headers reuse their strings.</summary>
    [Benchmark]
    public int SingleSegmentIntoRequestHeaders()
    {
        _headers.Clear();
        var handler = new StoringHandler(_headers);
        HttpParser.ParseHead(_single, ref handler, _limits, out _, out _);
        return _headers.Count;
    }

    private readonly struct StoringHandler(RequestHeaders headers) : IHttpHeadHandler
    {
        public void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version) => KnownMethods.GetString(method);

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => headers.Add(name, value);
    }
}
