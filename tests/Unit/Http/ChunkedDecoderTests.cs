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
