using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// The header fields of one request, in arrival order. Reused across the requests of a connection:
/// a name or value equal to the one at the same position in the previous request reuses its string,
/// so a client that repeats its headers (as browsers and load generators do) costs no allocation.
/// Owned by the connection's loop; not thread-safe.
/// </summary>
public sealed class RequestHeaders
{
    private string[] _names = new string[16];
    private string[] _values = new string[16];
    private int _count;
    private bool _hasNonAsciiValues;

    /// <summary>The number of header fields.</summary>
    public int Count => _count;

    /// <summary>The name of field <paramref name="index"/>, in the client's casing or the interned known casing.</summary>
    public string NameAt(int index) => _names[index];

    /// <summary>The value of field <paramref name="index"/>.</summary>
    public string ValueAt(int index) => _values[index];

    /// <summary>The value of the first field named <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Get(string name)
    {
        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return _values[i];
            }
        }
        return null;
    }

    /// <summary>
    /// Whether a value holds bytes beyond ASCII (obs-text, RFC 9110 section 5.5): such values are kept
    /// byte for byte, as Latin-1, until the server chooses how to decode them (<see cref="ValueAt(int, bool)"/>).
    /// </summary>
    public bool HasNonAsciiValues => _hasNonAsciiValues;

    /// <summary>
    /// The value of field <paramref name="index"/>, with bytes beyond ASCII decoded as UTF-8 (invalid
    /// sequences become U+FFFD, as HttpSys decodes them) or, with <paramref name="latin1"/>, as Latin-1
    /// (HttpSys's UseLatin1RequestHeaders). ASCII values are the same string either way.
    /// </summary>
    public string ValueAt(int index, bool latin1)
    {
        string value = _values[index];
        if (latin1 || !_hasNonAsciiValues || Ascii.IsValid(value))
        {
            return value;
        }
        // The Latin-1 string holds the field's bytes one per char: recover them and decode as UTF-8.
        const int StackLimit = 512;
        byte[]? rented = value.Length > StackLimit ? System.Buffers.ArrayPool<byte>.Shared.Rent(value.Length) : null;
        Span<byte> bytes = rented ?? stackalloc byte[StackLimit];
        int length = Encoding.Latin1.GetBytes(value, bytes);
        string decoded = Encoding.UTF8.GetString(bytes[..length]);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
        return decoded;
    }

    internal void Clear()
    {
        _count = 0;
        _hasNonAsciiValues = false;
    }

    /// <summary>Appends a field and returns its name string (interned when known).</summary>
    internal string Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_count == _names.Length)
        {
            Array.Resize(ref _names, _count * 2);
            Array.Resize(ref _values, _count * 2);
        }

        string? previousName = _names[_count];
        string nameString = previousName is not null && previousName.Length == name.Length && Ascii.Equals(name, previousName)
            ? previousName
            : KnownHeaders.Find(name) ?? Encoding.ASCII.GetString(name);

        string? previousValue = _values[_count];
        // Values are kept byte for byte (Latin-1), so obs-text survives for the app to decode as it wishes.
        string valueString;
        if (previousValue is not null && previousValue.Length == value.Length && Ascii.Equals(value, previousValue))
        {
            valueString = previousValue;
        }
        else
        {
            valueString = Encoding.Latin1.GetString(value);
            _hasNonAsciiValues |= !Ascii.IsValid(value);
        }

        _names[_count] = nameString;
        _values[_count] = valueString;
        _count++;
        return nameString;
    }
}
