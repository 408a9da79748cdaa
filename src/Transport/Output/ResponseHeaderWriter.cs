using System.Buffers;
using System.Text;

namespace HttpSysLite.Transport.Output;

/// <summary>
/// Serialises header fields as "Name: value\r\n" straight into the connection's output, ASCII only,
/// and notes the framing headers the app set itself so the driver does not add them twice.
/// One per connection, reused; used only by the request's own loop.
/// </summary>
public sealed class ResponseHeaderWriter
{
    private IBufferWriter<byte>? _output;

    /// <summary>The app set Connection (then the driver does not add its own).</summary>
    public bool HasConnection { get; private set; }

    /// <summary>The app's Connection header asked to close.</summary>
    public bool HasConnectionClose { get; private set; }

    /// <summary>The app set Transfer-Encoding and so frames the body itself.</summary>
    public bool HasTransferEncoding { get; private set; }

    /// <summary>The app set Date.</summary>
    public bool HasDate { get; private set; }

    /// <summary>The app set Server.</summary>
    public bool HasServer { get; private set; }

    /// <summary>When set, Date, Connection and Keep-Alive are left out (a cache entry gets them fresh on each hit).</summary>
    internal bool OmitPerResponseHeaders { get; set; }

    internal void Reset(IBufferWriter<byte> output)
    {
        _output = output;
        HasConnection = HasConnectionClose = HasTransferEncoding = HasDate = HasServer = false;
    }

    /// <summary>Appends one field. Name and value must already be valid (tchar name; visible ASCII, SP, HTAB value).</summary>
    public void Append(string name, string value)
    {
        Note(name, value);
        if (OmitPerResponseHeaders && (name.Equals("Date", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }
        int length = name.Length + value.Length + 4;
        var span = _output!.GetSpan(length);
        int written = Encoding.ASCII.GetBytes(name, span);
        span[written++] = (byte)':';
        span[written++] = (byte)' ';
        written += Encoding.ASCII.GetBytes(value, span[written..]);
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        _output.Advance(written);
    }

    internal void AppendRaw(ReadOnlySpan<byte> bytes) => _output!.Write(bytes);

    private void Note(string name, string value)
    {
        switch (name.Length)
        {
            case 4 when name.Equals("Date", StringComparison.OrdinalIgnoreCase):
                HasDate = true;
                break;
            case 6 when name.Equals("Server", StringComparison.OrdinalIgnoreCase):
                HasServer = true;
                break;
            case 10 when name.Equals("Connection", StringComparison.OrdinalIgnoreCase):
                HasConnection = true;
                HasConnectionClose |= value.Contains("close", StringComparison.OrdinalIgnoreCase);
                break;
            case 17 when name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase):
                HasTransferEncoding = true;
                break;
        }
    }

    /// <summary>True when <paramref name="name"/> is a token and <paramref name="value"/> has only visible ASCII, SP and HTAB.</summary>
    public static bool IsValid(string name, string value) =>
        name.Length > 0
        && name.AsSpan().IndexOfAnyExcept(Http.HttpCharacters.TokenChars) < 0
        && value.AsSpan().IndexOfAnyExcept(Http.HttpCharacters.ResponseValue) < 0;
}
