using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace HttpSysLite.Transport.Output;

/// <summary>
/// Serialises header fields as "Name: value\r\n" straight into the connection's output, ASCII only,
/// and notes the framing headers the app set itself so the driver does not add them twice. It is the
/// one place a response field is validated (RFC 9110 section 5.5: a CR or LF in a value would end the
/// field and forge the next): every field of a head, a trailer section or a cache entry passes through
/// <see cref="Append"/>, which refuses an invalid one before writing a byte of it.
/// One per connection, reused; used only by the request's own loop.
/// </summary>
public sealed class ResponseHeaderWriter
{
    /// <summary>Fields remembered at most, and their bytes: a typical response's fields, not a large head.</summary>
    private const int MaxRememberedFields = 8;
    private const int MaxRememberedBytes = 1024;

    private IBufferWriter<byte>? _output;

    // The fields this writer wrote last, in order, with their bytes: an app that answers with the same
    // field strings again (literals, cached numbers) has them copied instead of encoded and validated
    // (they were valid then, and a string does not change). Entries [0, _rememberedCount) are valid;
    // _rememberedEnds[i] is where entry i's bytes end.
    private string?[]? _rememberedNames;
    private string?[]? _rememberedValues;
    private int[]? _rememberedEnds;
    private byte[]? _rememberedBytes;
    private int _rememberedCount;
    private int _fieldIndex;

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

    /// <summary>When set, Date, Connection, Keep-Alive and Age are left out (a cache entry gets them fresh on each hit).</summary>
    internal bool OmitPerResponseHeaders { get; set; }

    /// <summary>Starts a head or trailer section written to <paramref name="output"/>; null checks fields without writing them.</summary>
    internal void Reset(IBufferWriter<byte>? output)
    {
        _output = output;
        _fieldIndex = 0;
        HasConnection = HasConnectionClose = HasTransferEncoding = HasDate = HasServer = false;
    }

    /// <summary>The section is written: the output is let go of (a suspended connection's pipes must not be kept by its request).</summary>
    internal void EndSection() => _output = null;

    /// <summary>
    /// True when the <paramref name="index"/>th field of the last head this writer wrote was this very
    /// name and value (the same string objects), which were valid then and so are now.
    /// </summary>
    public bool Repeats(int index, string name, string value) =>
        index < _rememberedCount && ReferenceEquals(_rememberedNames![index], name) && ReferenceEquals(_rememberedValues![index], value);

    /// <summary>
    /// Checks every field <paramref name="source"/> has (its headers, or its trailers) without writing
    /// any: the driver calls this before a section goes out, so an invalid field fails the response while
    /// nothing of that section is in the output, and the server can still answer 500 in its place.
    /// </summary>
    /// <exception cref="InvalidOperationException">A name is not a token or a value has a control or non-ASCII character.</exception>
    internal void Check(IResponseHeaderSource source, bool trailers)
    {
        Reset(null);
        if (trailers)
        {
            source.WriteTrailers(this);
        }
        else
        {
            source.WriteHeaders(this);
        }
    }

    /// <summary>Appends one field: a tchar name; a value of visible ASCII, SP and HTAB (RFC 9110 section 5.5).</summary>
    /// <exception cref="InvalidOperationException">The field is invalid; nothing of it was written.</exception>
    public void Append(string name, string value)
    {
        int index = OmitPerResponseHeaders ? int.MaxValue : _fieldIndex++;
        bool repeat = Repeats(index, name, value);
        if (!repeat && !IsValid(name, value))
        {
            ThrowInvalid(name);
        }
        Note(name, value);
        if (_output is null || (OmitPerResponseHeaders && (name.Equals("Date", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Age", StringComparison.OrdinalIgnoreCase))))
        {
            return;
        }
        if (repeat)
        {
            int start = index == 0 ? 0 : _rememberedEnds![index - 1];
            _output.Write(_rememberedBytes.AsSpan(start, _rememberedEnds![index] - start));
            return;
        }
        int length = name.Length + value.Length + 4;
        var span = _output.GetSpan(length);
        int written = Encoding.ASCII.GetBytes(name, span);
        span[written++] = (byte)':';
        span[written++] = (byte)' ';
        written += Encoding.ASCII.GetBytes(value, span[written..]);
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        Remember(index, name, value, span[..written]);
        _output.Advance(written);
    }

    /// <summary>Keeps a field just written as entry <paramref name="index"/>; the entries after it no longer hold.</summary>
    private void Remember(int index, string name, string value, ReadOnlySpan<byte> bytes)
    {
        if (index > _rememberedCount || index >= MaxRememberedFields)
        {
            return; // an earlier field was not kept, so this one's offset is unknown
        }
        int start = index == 0 ? 0 : _rememberedEnds![index - 1];
        if (start + bytes.Length > MaxRememberedBytes)
        {
            _rememberedCount = index;
            return;
        }
        _rememberedNames ??= new string?[MaxRememberedFields];
        _rememberedValues ??= new string?[MaxRememberedFields];
        _rememberedEnds ??= new int[MaxRememberedFields];
        if (_rememberedBytes is null || _rememberedBytes.Length < start + bytes.Length)
        {
            Array.Resize(ref _rememberedBytes, Math.Min(MaxRememberedBytes, Math.Max(128, 2 * (start + bytes.Length))));
        }
        bytes.CopyTo(_rememberedBytes.AsSpan(start));
        _rememberedNames[index] = name;
        _rememberedValues[index] = value;
        _rememberedEnds[index] = start + bytes.Length;
        _rememberedCount = index + 1;
    }

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
    private static bool IsValid(string name, string value) =>
        name.Length > 0
        && name.AsSpan().IndexOfAnyExcept(Http.HttpCharacters.TokenChars) < 0
        && value.AsSpan().IndexOfAnyExcept(Http.HttpCharacters.ResponseValue) < 0;

    [DoesNotReturn]
    private static void ThrowInvalid(string name) =>
        throw new InvalidOperationException($"Invalid non-ASCII or control character in header: {name}");
}
