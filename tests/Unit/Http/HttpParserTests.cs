using System.Buffers;
using System.Text;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Tests.Unit.Http;

public class HttpParserTests
{
    private static readonly HttpParserLimits Limits = HttpParserLimits.Default;

    /// <summary>Valid heads: raw text, then method, target, version and the headers as "name=value" pairs.</summary>
    public static TheoryData<string, string, string, HttpVersion, string> ValidHeads => new()
    {
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", HttpVersion.Http11, "Host=a" },
        { "GET /plaintext HTTP/1.1\r\nHost: localhost:5000\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n", "GET", "/plaintext", HttpVersion.Http11, "Host=localhost:5000|Accept=text/plain|Connection=keep-alive" },
        { "POST /echo?x=1&y=%20 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "POST", "/echo?x=1&y=%20", HttpVersion.Http11, "Host=a|Content-Length=5" },
        { "GET / HTTP/1.0\r\n\r\n", "GET", "/", HttpVersion.Http10, "" },
        { "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", HttpVersion.Http11, "Host=a" },
        { "GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "http://example.com/x", HttpVersion.Http11, "Host=example.com" },
        { "CUSTOM-METHOD! /a HTTP/1.1\r\nHost: a\r\n\r\n", "CUSTOM-METHOD!", "/a", HttpVersion.Http11, "Host=a" },
        // Every visible ASCII character may stand in a target (the handler decides what it means).
        { "GET /\"<>\\^`{|}#f?q=\"<>\\^`{|}#f HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/\"<>\\^`{|}#f?q=\"<>\\^`{|}#f", HttpVersion.Http11, "Host=a" },
        // OWS around values is not part of the value (RFC 9112 section 5.1).
        { "GET / HTTP/1.1\r\nHost:a\r\nX-Pad: \t v \t \r\nX-Empty:\r\n\r\n", "GET", "/", HttpVersion.Http11, "Host=a|X-Pad=v|X-Empty=" },
        // Inner whitespace, quotes and obs-text survive.
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Quoted: \"a, b\" c\r\nX-Latin: caf\u00e9\r\n\r\n", "GET", "/", HttpVersion.Http11, "Host=a|X-Quoted=\"a, b\" c|X-Latin=caf\u00e9" },
        // A bare LF is accepted as a line end (RFC 9112 section 2.2 allows it; Kestrel does the same).
        { "GET / HTTP/1.1\nHost: a\n\n", "GET", "/", HttpVersion.Http11, "Host=a" },
        { "GET / HTTP/1.1\r\nHost: a\n\r\n", "GET", "/", HttpVersion.Http11, "Host=a" },
        { "DELETE /items/42 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x.y.z\r\n\r\n", "DELETE", "/items/42", HttpVersion.Http11, "Host=a|Authorization=Bearer x.y.z" },
    };

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void ParsesValidHead(string raw, string method, string target, HttpVersion version, string headers)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, Limits, out long consumed, out var reason);

        Assert.Equal(ParseResult.Done, result);
        Assert.Equal(RequestRejectionReason.None, reason);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(method, handler.Method);
        Assert.Equal(target, handler.Target);
        Assert.Equal(version, handler.Version);
        Assert.Equal(headers, string.Join("|", handler.Headers.Select(h => h.Name + "=" + h.Value)));
    }

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void EveryProperPrefixIsIncompleteAndConsumesNothing(string raw, string method, string target, HttpVersion version, string headers)
    {
        _ = (method, target, version, headers);
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        for (int length = 0; length < bytes.Length; length++)
        {
            var handler = new RecordingHandler();
            var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes, 0, length), ref handler, Limits, out long consumed, out var reason);
            Assert.True(result == ParseResult.Incomplete, $"prefix of {length} bytes gave {result} ({reason})");
            Assert.Equal(0, consumed);
            Assert.Null(handler.Method); // the handler never sees half a request
        }
    }

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void ParsesOneBytePerSegmentTheSameAsContiguous(string raw, string method, string target, HttpVersion version, string headers)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(Segments.OneBytePerSegment(bytes), ref handler, Limits, out long consumed, out _);

        Assert.Equal(ParseResult.Done, result);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(method, handler.Method);
        Assert.Equal(target, handler.Target);
        Assert.Equal(version, handler.Version);
        Assert.Equal(headers, string.Join("|", handler.Headers.Select(h => h.Name + "=" + h.Value)));
    }

    [Fact]
    public void ConsumesOnlyTheFirstOfPipelinedRequests()
    {
        byte[] bytes = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray();
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, Limits, out long consumed, out _);
        Assert.Equal(ParseResult.Done, result);
        Assert.Equal(bytes.Length / 2, consumed);
        Assert.Equal("/1", handler.Target);
    }

    /// <summary>Invalid heads and the reason each must give.</summary>
    public static TheoryData<string, RequestRejectionReason> InvalidHeads => new()
    {
        { "GET  / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET / HTTP/1.1 \r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { " GET / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET /\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "G(T / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidMethod },
        { "GET /a b HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET /\u00e9 HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget },
        { "GET /a\u007fb HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget },
        { "GET /a\u0001b HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget },
        { "GET / HTTP/1.2\r\n\r\n", RequestRejectionReason.UnsupportedHttpVersion },
        { "GET / HTTP/2.0\r\n\r\n", RequestRejectionReason.UnsupportedHttpVersion },
        { "GET / HTTX/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET / http/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        { "GET / HTTP/1.1\r\r\n\r\n", RequestRejectionReason.InvalidRequestLine },
        // Whitespace between name and colon (RFC 9112 section 5.1).
        { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", RequestRejectionReason.InvalidHeader },
        // Obsolete line folding (section 5.2).
        { "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nHost: a\r\n\tc\r\n\r\n", RequestRejectionReason.InvalidHeader },
        // Bare CR, NUL, DEL and other controls inside a value.
        { "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nHost: a\u007fb\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nX: a\u0001\r\n\r\n", RequestRejectionReason.InvalidHeader },
        // Names: empty, with separators, with non-ASCII.
        { "GET / HTTP/1.1\r\n: a\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nX(Y): a\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nX\u00e9: a\r\n\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nNoColon\r\n\r\n", RequestRejectionReason.InvalidHeader },
        // Content-Length = 1*DIGIT, once (RFC 9110 section 8.6): the parser judges it as its line arrives.
        { "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\ncontent-length: 1\r\nCONTENT-LENGTH: 2\r\n\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", RequestRejectionReason.InvalidContentLength },
    };

    [Theory]
    [MemberData(nameof(InvalidHeads))]
    public void RejectsInvalidHead(string raw, RequestRejectionReason expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, Limits, out long consumed, out var reason);
        Assert.Equal(ParseResult.Invalid, result);
        Assert.Equal(expected, reason);
        Assert.Equal(0, consumed);

        // The same verdict when the bytes arrive split into single-byte segments.
        handler = new RecordingHandler();
        result = HttpParser.ParseHead(Segments.OneBytePerSegment(bytes), ref handler, Limits, out _, out reason);
        Assert.Equal(ParseResult.Invalid, result);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void RejectsAnInvalidRequestLineBeforeTheHeadIsComplete()
    {
        // Garbage is refused as soon as its line is complete, not after the client fills the limit.
        byte[] bytes = "GET / JUNK\r\nHost: a\r\n"u8.ToArray();
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, Limits, out _, out var reason);
        Assert.Equal(ParseResult.Invalid, result);
        Assert.Equal(RequestRejectionReason.InvalidRequestLine, reason);
    }

    /// <summary>
    /// Heads that never end, with a line that already decides them: a second or overflowing
    /// Content-Length, a CR not followed by LF (RFC 9112 section 2.2). Each is refused as soon as the
    /// offending bytes arrive, with nothing consumed and the handler never called.
    /// </summary>
    public static TheoryData<string, RequestRejectionReason> DecidedBeforeTheHeadEnds => new()
    {
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\nX-More: 1\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n", RequestRejectionReason.InvalidContentLength },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12a\r\n", RequestRejectionReason.InvalidContentLength },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\r", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n", RequestRejectionReason.InvalidHeader },
        { "GET / HTTP/1.1\rHost: a", RequestRejectionReason.InvalidRequestLine },
        { "GET /\r HTTP/1.1", RequestRejectionReason.InvalidRequestLine },
    };

    [Theory]
    [MemberData(nameof(DecidedBeforeTheHeadEnds))]
    public void RejectsALineThatDecidesTheHeadBeforeTheHeadEnds(string raw, RequestRejectionReason expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        var handler = new RecordingHandler();
        var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, Limits, out long consumed, out var reason);
        Assert.Equal(ParseResult.Invalid, result);
        Assert.Equal(expected, reason);
        Assert.Equal(0, consumed);
        Assert.Null(handler.Method);

        handler = new RecordingHandler();
        result = HttpParser.ParseHead(Segments.OneBytePerSegment(bytes), ref handler, Limits, out _, out reason);
        Assert.Equal(ParseResult.Invalid, result);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void ACarriageReturnAtTheEndOfTheBufferWaitsForItsLineFeed()
    {
        foreach (string raw in new[] { "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: a\r", "GET / HTTP/1.1\r\nHost: a\r\n\r" })
        {
            var handler = new RecordingHandler();
            var result = HttpParser.ParseHead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(raw)), ref handler, Limits, out _, out var reason);
            Assert.True(result == ParseResult.Incomplete, $"{raw.Replace("\r", "\\r").Replace("\n", "\\n")} gave {result} ({reason})");
        }
    }

    [Fact]
    public void RequestLineAtTheFieldLimitIsAcceptedAndOneMoreIs414()
    {
        var limits = new HttpParserLimits(MaxRequestBytes: 4096, MaxFieldLength: 100, MaxRequestHeaderCount: 10);
        string Line(int length) => "GET /" + new string('a', length - "GET / HTTP/1.1".Length) + " HTTP/1.1";

        var handler = new RecordingHandler();
        byte[] ok = Encoding.ASCII.GetBytes(Line(100) + "\r\nHost: a\r\n\r\n");
        Assert.Equal(ParseResult.Done, HttpParser.ParseHead(new ReadOnlySequence<byte>(ok), ref handler, limits, out _, out _));

        byte[] tooLong = Encoding.ASCII.GetBytes(Line(101) + "\r\nHost: a\r\n\r\n");
        Assert.Equal(ParseResult.Invalid, HttpParser.ParseHead(new ReadOnlySequence<byte>(tooLong), ref handler, limits, out _, out var reason));
        Assert.Equal(RequestRejectionReason.RequestLineTooLong, reason);

        // Still incomplete, but already past the limit: rejected without waiting for the end of the line.
        byte[] partial = Encoding.ASCII.GetBytes("GET /" + new string('a', 200));
        Assert.Equal(ParseResult.Invalid, HttpParser.ParseHead(new ReadOnlySequence<byte>(partial), ref handler, limits, out _, out reason));
        Assert.Equal(RequestRejectionReason.RequestLineTooLong, reason);
    }

    [Fact]
    public void HeaderCountAtTheLimitIsAcceptedAndOneMoreIs431()
    {
        var limits = new HttpParserLimits(MaxRequestBytes: 16384, MaxFieldLength: 16384, MaxRequestHeaderCount: 5);
        string Head(int count) => "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, count).Select(i => $"X-{i}: v\r\n")) + "\r\n";

        var handler = new RecordingHandler();
        Assert.Equal(ParseResult.Done, HttpParser.ParseHead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Head(5))), ref handler, limits, out _, out _));
        Assert.Equal(ParseResult.Invalid, HttpParser.ParseHead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Head(6))), ref handler, limits, out _, out var reason));
        Assert.Equal(RequestRejectionReason.HeadersTooLarge, reason);
    }

    [Fact]
    public void HeadAtMaxRequestBytesIsAcceptedAndOneMoreIs431()
    {
        const int max = 1024;
        var limits = new HttpParserLimits(MaxRequestBytes: max, MaxFieldLength: max, MaxRequestHeaderCount: 100);
        string start = "GET / HTTP/1.1\r\nX: ";
        string Head(int total) => start + new string('v', total - start.Length - 4) + "\r\n\r\n";

        var handler = new RecordingHandler();
        byte[] exact = Encoding.ASCII.GetBytes(Head(max));
        Assert.Equal(max, exact.Length);
        Assert.Equal(ParseResult.Done, HttpParser.ParseHead(new ReadOnlySequence<byte>(exact), ref handler, limits, out long consumed, out _));
        Assert.Equal(max, consumed);

        byte[] over = Encoding.ASCII.GetBytes(Head(max + 1));
        Assert.Equal(ParseResult.Invalid, HttpParser.ParseHead(new ReadOnlySequence<byte>(over), ref handler, limits, out _, out var reason));
        Assert.Equal(RequestRejectionReason.HeadersTooLarge, reason);
    }

    [Fact]
    public void BytesPastTheLimitAreNeverExamined()
    {
        // A valid head followed by garbage past MaxRequestBytes parses: the garbage is the next request's problem.
        var limits = new HttpParserLimits(MaxRequestBytes: 64, MaxFieldLength: 64, MaxRequestHeaderCount: 10);
        byte[] bytes = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n" + new string('\0', 1000));
        var handler = new RecordingHandler();
        Assert.Equal(ParseResult.Done, HttpParser.ParseHead(new ReadOnlySequence<byte>(bytes), ref handler, limits, out long consumed, out _));
        Assert.Equal(27, consumed);
    }
}
