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
