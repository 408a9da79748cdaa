using System.Buffers;
using System.Text;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Tests.Unit.Http;

/// <summary>
/// The writer remembers the fields of its last head and copies their bytes when the same strings come
/// again. Oracle: a fresh writer, which remembers nothing, must produce the same bytes and flags for
/// every head in every sequence.
/// </summary>
public class ResponseHeaderWriterTests
{
    private const string ContentType = "Content-Type";
    private const string TextPlain = "text/plain";

    private static (string Bytes, string Flags) Write(ResponseHeaderWriter writer, (string Name, string Value)[] fields)
    {
        var output = new ArrayBufferWriter<byte>();
        writer.Reset(output);
        foreach (var (name, value) in fields)
        {
            writer.Append(name, value);
        }
        return (Encoding.ASCII.GetString(output.WrittenSpan),
            $"{writer.HasConnection} {writer.HasConnectionClose} {writer.HasTransferEncoding} {writer.HasDate} {writer.HasServer}");
    }

    public static TheoryData<string> Sequences() =>
    [
        "same",
        "value changes",
        "equal text, new string",
        "field added",
        "field removed",
        "first field changes",
        "flags",
        "many fields",
        "long values",
    ];

    [Theory]
    [MemberData(nameof(Sequences))]
    public void EveryHeadIsWhatAFreshWriterWrites(string sequence)
    {
        var heads = Heads(sequence);
        var remembering = new ResponseHeaderWriter();
        foreach (var head in heads)
        {
            Assert.Equal(Write(new ResponseHeaderWriter(), head), Write(remembering, head));
        }
    }

    [Fact]
    public void OnlyTheSameStringsAtTheSamePositionRepeat()
    {
        var writer = new ResponseHeaderWriter();
        string length = "13";
        Write(writer, [(ContentType, TextPlain), ("Content-Length", length)]);
        Assert.True(writer.Repeats(0, ContentType, TextPlain));
        Assert.True(writer.Repeats(1, "Content-Length", length));
        Assert.False(writer.Repeats(1, "Content-Length", new string("13".AsSpan()))); // equal text, another string
        Assert.False(writer.Repeats(0, "Content-Length", length)); // another position
        Assert.False(writer.Repeats(2, ContentType, TextPlain)); // never written

        // A different first field: what followed it is no longer known to be in place.
        Write(writer, [(ContentType, "text/html"), ("Content-Length", length)]);
        Assert.False(writer.Repeats(0, ContentType, TextPlain));
        Assert.True(writer.Repeats(0, ContentType, "text/html"));
        Assert.True(writer.Repeats(1, "Content-Length", length));
    }

    [Fact]
    public void AWriterThatOmitsPerResponseFieldsRemembersNothing()
    {
        var writer = new ResponseHeaderWriter { OmitPerResponseHeaders = true };
        Write(writer, [(ContentType, TextPlain), ("Date", "Sat, 21 Nov 2026 16:00:00 GMT")]);
        Assert.False(writer.Repeats(0, ContentType, TextPlain));
    }

    public static TheoryData<string, string> InvalidFields() => new()
    {
        { "X-Value", "fine\r\nX-Forged: yes" },
        { "X-Value", "line\nfeed" },
        { "X-Value", "nul\0" },
        { "X-Value", "caf\u00e9" },
        { "Bad Name", "value" },
        { "", "value" },
    };

    /// <summary>The writer is the one place fields are validated: an invalid one is refused before a byte of it is written.</summary>
    [Theory]
    [MemberData(nameof(InvalidFields))]
    public void AnInvalidFieldIsRefusedAndNothingOfItIsWritten(string name, string value)
    {
        var writer = new ResponseHeaderWriter();
        var output = new ArrayBufferWriter<byte>();
        writer.Reset(output);
        writer.Append(ContentType, TextPlain);
        int before = output.WrittenCount;
        Assert.Throws<InvalidOperationException>(() => writer.Append(name, value));
        Assert.Equal(before, output.WrittenCount);
    }

    /// <summary>
    /// A field is skipped only when it is the very string the last head had at that position: an equal
    /// but different string, or the same string at another position, is validated again.
    /// </summary>
    [Fact]
    public void OnlyARepeatedStringSkipsValidation()
    {
        var writer = new ResponseHeaderWriter();
        Write(writer, [("X-Value", "fine")]);
        string forged = "fine\r\nX-Forged: yes";
        Assert.Throws<InvalidOperationException>(() => Write(writer, [("X-Value", forged)]));
        Assert.Throws<InvalidOperationException>(() => Write(writer, [("X-Value", "fine"), ("X-Value", forged)]));
    }

    [Fact]
    public void ACheckWritesNothingAndForgetsNothing()
    {
        var writer = new ResponseHeaderWriter();
        Write(writer, [(ContentType, TextPlain), ("Content-Length", "13")]);
        var source = new FieldSource([(ContentType, TextPlain), ("X-Other", "1")], [("X-Checksum", "abc\r\nX-Forged: yes")]);
        writer.Check(source, trailers: false);
        Assert.True(writer.Repeats(0, ContentType, TextPlain));
        Assert.True(writer.Repeats(1, "Content-Length", "13"));
        Assert.Throws<InvalidOperationException>(() => writer.Check(source, trailers: true));
    }

    private sealed class FieldSource((string Name, string Value)[] headers, (string Name, string Value)[] trailers) : IResponseHeaderSource
    {
        public long? ContentLength => null;

        public bool HasTrailers => trailers.Length > 0;

        public void WriteHeaders(ResponseHeaderWriter writer)
        {
            foreach (var (name, value) in headers)
            {
                writer.Append(name, value);
            }
        }

        public void WriteTrailers(ResponseHeaderWriter writer)
        {
            foreach (var (name, value) in trailers)
            {
                writer.Append(name, value);
            }
        }
    }

    private static (string, string)[][] Heads(string sequence)
    {
        string html = "text/html";
        string copy = new(TextPlain.AsSpan());
        string longValue = new('v', 700);
        var many = Enumerable.Range(0, 12).Select(i => ($"X-{i}", $"{i}")).ToArray(); // past the fields remembered
        return sequence switch
        {
            "same" => [[(ContentType, TextPlain), ("Content-Length", "13")], [(ContentType, TextPlain), ("Content-Length", "13")]],
            "value changes" => [[(ContentType, TextPlain)], [(ContentType, html)], [(ContentType, TextPlain)]],
            "equal text, new string" => [[(ContentType, TextPlain)], [(ContentType, copy)]],
            "field added" => [[(ContentType, TextPlain)], [(ContentType, TextPlain), ("X-Extra", "1")], [(ContentType, TextPlain), ("X-Extra", "1")]],
            "field removed" => [[(ContentType, TextPlain), ("X-Extra", "1")], [(ContentType, TextPlain)], [("X-Extra", "1")]],
            "first field changes" => [[("A", "1"), ("B", "2"), ("C", "3")], [("A", "9"), ("B", "2"), ("C", "3")], [("A", "1"), ("B", "2"), ("C", "3")]],
            "flags" => [[("Date", "d"), ("Server", "s"), ("Connection", "close")], [("Date", "d"), ("Server", "s"), ("Connection", "close")], [("Transfer-Encoding", "chunked")]],
            "many fields" => [many, many, many[..5], many],
            "long values" => [[("A", longValue), ("B", longValue), ("C", "c")], [("A", longValue), ("B", longValue), ("C", "c")]],
            _ => throw new ArgumentOutOfRangeException(nameof(sequence)),
        };
    }
}
