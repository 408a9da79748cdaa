using System.Buffers;
using System.Text;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Tests.Unit.Http;

public class ChunkedDecoderTests
{
    private static readonly HttpParserLimits Limits = HttpParserLimits.Default;

    public static TheoryData<string, string> ValidBodies => new()
    {
        { "0\r\n\r\n", "" },
        { "5\r\nhello\r\n0\r\n\r\n", "hello" },
        { "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world" },
        { "A\r\n0123456789\r\n0\r\n\r\n", "0123456789" },
        { "a\r\n0123456789\r\n0\r\n\r\n", "0123456789" },
        { "000005\r\nhello\r\n0\r\n\r\n", "hello" },
        // chunk-ext (RFC 9112 section 7.1.1): token and quoted-string values, BWS around them.
        { "5;name=value\r\nhello\r\n0\r\n\r\n", "hello" },
        { "5 ; a ; b = \"q;\\\"uoted\"\r\nhello\r\n0;last\r\n\r\n", "hello" },
        // Trailer section (section 7.1.2).
        { "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n", "hello" },
    };

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void DecodesWholeBody(string raw, string expected)
    {
        Assert.Equal(expected, DecodeIncrementally(Encoding.ASCII.GetBytes(raw), feed: int.MaxValue, destinationSize: 1024));
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void DecodesBodyFedOneByteAtATime(string raw, string expected)
    {
        Assert.Equal(expected, DecodeIncrementally(Encoding.ASCII.GetBytes(raw), feed: 1, destinationSize: 1024));
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void DecodesIntoOneByteDestination(string raw, string expected)
    {
        Assert.Equal(expected, DecodeIncrementally(Encoding.ASCII.GetBytes(raw), feed: int.MaxValue, destinationSize: 1));
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void DecodesOneBytePerSegment(string raw, string expected)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(raw);
        var decoder = new ChunkedDecoder();
        var output = new List<byte>();
        var sequence = Segments.OneBytePerSegment(bytes);
        var destination = new byte[1024];
        while (!decoder.IsComplete)
        {
            var result = decoder.Decode(sequence, destination, Limits, out var consumed, out int written, out _);
            Assert.Equal(ParseResult.Done, result);
            output.AddRange(destination.AsSpan(0, written).ToArray());
            sequence = sequence.Slice(consumed);
        }
        Assert.Equal(expected, Encoding.ASCII.GetString(output.ToArray()));
        Assert.True(sequence.IsEmpty);
    }

    [Fact]
    public void LeavesBytesAfterTheBodyUnconsumed()
    {
        byte[] bytes = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n"u8.ToArray();
        var decoder = new ChunkedDecoder();
        var destination = new byte[64];
        var sequence = new ReadOnlySequence<byte>(bytes);
        decoder.Decode(sequence, destination, Limits, out var consumed, out int written, out _);
        Assert.Equal(3, written);
        sequence = sequence.Slice(consumed);
        decoder.Decode(sequence, destination, Limits, out consumed, out written, out _);
        Assert.True(decoder.IsComplete);
        Assert.Equal("GET / HTTP/1.1\r\n", Encoding.ASCII.GetString(sequence.Slice(consumed).ToArray()));
    }

    public static TheoryData<string> InvalidBodies => new()
    {
        "\r\n",                                   // no size
        "g\r\n",                                  // not hex
        "-5\r\nhello\r\n",                        // sign
        "0x5\r\nhello\r\n",                       // prefix
        "1000000000000000\r\n",                   // 16 hex digits: overflow
        "5 hello\r\n",                            // junk after size
        "5;\r\nhello\r\n",                        // extension without a name
        "5;a=\r\nhello\r\n",                      // extension without a value
        "5;a=\"open\r\nhello\r\n",                // unterminated quoted-string
        "5;a=b c\r\nhello\r\n",                   // two tokens
        "5\r\nhelloX\r\n0\r\n\r\n",               // data longer than its size: no CRLF after data
        "5\r\nhello\rX0\r\n\r\n",                 // CR not followed by LF
        "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n", // trailer without a colon
        // Bare LF line ends: refused in the framing (unlike the head), where a boundary read two ways hides requests.
        "5\nhello\r\n0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\r\n0\n\r\n",
        "5\r\nhello\r\n0\r\nX-T: 1\n\r\n",
        "5\r\nhello\r\n0\r\n\n",
        "5\r\nhello\r\n0\r\nX : v\r\n\r\n",       // whitespace before the colon
        "5\r\nhello\r\n0\r\nX: a\0b\r\n\r\n",     // NUL in a trailer value
        "5\rhello\r\n",                            // bare CR ends the size line
        // chunk-size has no BWS of its own (RFC 9112 section 7.1): whitespace must lead to a ';'.
        "5 \r\nhello\r\n0\r\n\r\n",
        "5\t\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n0 \r\n\r\n",
        "5;a=b \r\nhello\r\n0\r\n\r\n",          // nor does an extension end in it (section 7.1.1)
        "5;flag\t\r\nhello\r\n0\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public void RejectsMalformedFraming(string raw)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(raw);
        var decoder = new ChunkedDecoder();
        var destination = new byte[1024];
        var sequence = new ReadOnlySequence<byte>(bytes);
        while (true)
        {
            var result = decoder.Decode(sequence, destination, Limits, out var consumed, out int written, out var reason);
            if (result == ParseResult.Invalid)
            {
                Assert.Equal(RequestRejectionReason.InvalidChunk, reason);
                return;
            }
            Assert.False(result == ParseResult.Incomplete && consumed.Equals(sequence.Start) && written == 0 && !decoder.IsComplete,
                $"'{raw}' was taken as incomplete");
            Assert.False(decoder.IsComplete, $"'{raw}' was accepted");
            sequence = sequence.Slice(consumed);
        }
    }

    [Fact]
    public void RejectsAnOverlongSizeLineWithoutItsEnd()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("5;" + new string('a', ChunkedDecoder.MaxChunkLineLength + 1));
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseResult.Invalid, decoder.Decode(new ReadOnlySequence<byte>(bytes), new byte[16], Limits, out _, out _, out _));
    }

    [Fact]
    public void RejectsATrailerSectionOverTheHeadLimit()
    {
        var limits = new HttpParserLimits(MaxRequestBytes: 256, MaxFieldLength: 256, MaxRequestHeaderCount: 100);
        string trailers = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-{i:D2}: v\r\n"));
        byte[] bytes = Encoding.ASCII.GetBytes("0\r\n" + trailers + "\r\n");
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseResult.Invalid, decoder.Decode(new ReadOnlySequence<byte>(bytes), new byte[16], limits, out _, out _, out _));
    }

    /// <summary>Bodies and the trailer fields their decoding collects, as "name=value" joined by '|'.</summary>
    public static TheoryData<string, string> BodiesWithTrailers => new()
    {
        { "5\r\nhello\r\n0\r\n\r\n", "" },
        { "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "X-Checksum=abc" },
        { "0\r\nX-A: 1\r\nx-a:2\r\nX-B: \t spaced out \t\r\nX-Empty:\r\n\r\n", "X-A=1|x-a=2|X-B=spaced out|X-Empty=" },
        // Fields that may not be trailers (RFC 9110 section 6.5.1) are collected like any other: they stay
        // trailers, and the decoder reads none of them for framing.
        { "2\r\nab\r\n0\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\nHost: other\r\n\r\n", "Content-Length=99|Transfer-Encoding=chunked|Host=other" },
        { "0;ext=1\r\nX-Latin: caf\u00e9\r\n\r\n", "X-Latin=caf\u00e9" },
    };

    [Theory]
    [MemberData(nameof(BodiesWithTrailers))]
    public void CollectsTheTrailerFieldsOnOneBufferAndOneBytePerSegment(string raw, string expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(raw);
        foreach (var input in new[] { new ReadOnlySequence<byte>(bytes), Segments.OneBytePerSegment(bytes) })
        {
            var decoder = new ChunkedDecoder();
            var trailers = new RequestHeaders();
            var sequence = input;
            var destination = new byte[3];
            while (!decoder.IsComplete)
            {
                Assert.Equal(ParseResult.Done, decoder.Decode(sequence, destination, Limits, trailers, out var consumed, out _, out _));
                sequence = sequence.Slice(consumed);
            }
            Assert.True(sequence.IsEmpty);
            Assert.Equal(expected, Describe(trailers));
        }
    }

    [Fact]
    public void ATrailerArrivingOneByteAtATimeIsCollectedOnce()
    {
        byte[] bytes = "1\r\na\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"u8.ToArray();
        var decoder = new ChunkedDecoder();
        var trailers = new RequestHeaders();
        var destination = new byte[16];
        int offset = 0;
        for (int available = 1; !decoder.IsComplete; available++)
        {
            Assert.True(available <= bytes.Length);
            var sequence = new ReadOnlySequence<byte>(bytes, offset, available - offset);
            decoder.Decode(sequence, destination, Limits, trailers, out var consumed, out _, out _);
            offset += (int)sequence.Slice(0, consumed).Length;
        }
        Assert.Equal("X-A=1|X-B=2", Describe(trailers));
    }

    [Fact]
    public void TrailerLinesAreHeldToTheHeadsFieldLimitsAtAndPastThem()
    {
        var limits = new HttpParserLimits(MaxRequestBytes: 4096, MaxFieldLength: 64, MaxRequestHeaderCount: 3);
        string Line(int length) => "X-T: " + new string('v', length - 5);

        // MaxFieldLength counts the field line without its CRLF, as in the head.
        Assert.Equal(ParseResult.Done, DecodeTrailers("0\r\n" + Line(64) + "\r\n\r\n", limits, out _));
        Assert.Equal(ParseResult.Invalid, DecodeTrailers("0\r\n" + Line(65) + "\r\n\r\n", limits, out _));
        // MaxRequestHeaderCount fields, and one more.
        Assert.Equal(ParseResult.Done, DecodeTrailers("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits, out var three));
        Assert.Equal(3, three.Count);
        Assert.Equal(ParseResult.Invalid, DecodeTrailers("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits, out _));
    }

    [Fact]
    public void AnInvalidTrailerLineFailsTheBodyAfterTheFieldsBeforeIt()
    {
        Assert.Equal(ParseResult.Invalid, DecodeTrailers("0\r\nX-A: 1\r\nX B: 2\r\n\r\n", Limits, out var trailers));
        Assert.Equal("X-A=1", Describe(trailers));
    }

    private static ParseResult DecodeTrailers(string raw, HttpParserLimits limits, out RequestHeaders trailers)
    {
        var decoder = new ChunkedDecoder();
        trailers = new RequestHeaders();
        return decoder.Decode(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(raw)), new byte[16], limits, trailers, out _, out _, out _);
    }

    private static string Describe(RequestHeaders fields) =>
        string.Join("|", Enumerable.Range(0, fields.Count).Select(i => fields.NameAt(i) + "=" + fields.ValueAt(i)));

    /// <summary>Feeds <paramref name="bytes"/> in pieces of <paramref name="feed"/> bytes, as a socket would.</summary>
    private static string DecodeIncrementally(byte[] bytes, int feed, int destinationSize)
    {
        var decoder = new ChunkedDecoder();
        var output = new List<byte>();
        var destination = new byte[destinationSize];
        int offset = 0;      // start of unconsumed input
        int available = Math.Min(feed, bytes.Length);
        for (int guard = 0; guard < 100_000 && !decoder.IsComplete; guard++)
        {
            var sequence = new ReadOnlySequence<byte>(bytes, offset, available - offset);
            var result = decoder.Decode(sequence, destination, Limits, out var consumed, out int written, out var reason);
            Assert.NotEqual(ParseResult.Invalid, result);
            output.AddRange(destination.AsSpan(0, written).ToArray());
            offset += (int)sequence.Slice(0, consumed).Length;
            if (result == ParseResult.Incomplete)
            {
                Assert.True(available < bytes.Length, $"needs more than the whole input ({reason})");
                available = (int)Math.Min((long)available + feed, bytes.Length);
            }
        }
        Assert.True(decoder.IsComplete);
        Assert.Equal(bytes.Length, offset);
        return Encoding.ASCII.GetString(output.ToArray());
    }
}
