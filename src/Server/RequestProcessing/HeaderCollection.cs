using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The request, response and trailer headers the app sees: fields in arrival (or insertion) order in
/// two parallel arrays, names compared case-insensitively (RFC 9110 section 5.1). A request has a
/// handful of fields, so a scan that first tries the interned name's reference beats hashing every
/// name into a dictionary and back for each request, which is what HeaderDictionary costs; past
/// <see cref="IndexThreshold"/> fields an index is built, so a head of thousands of tiny fields
/// stays linear. Reused for every request of a connection; owned by the request's thread.
/// </summary>
internal sealed class HeaderCollection : IHeaderDictionary
{
    /// <summary>More fields than this are looked up through a dictionary instead of a scan.</summary>
    public const int IndexThreshold = 16;

    private string[] _names = new string[8];
    private StringValues[] _values = new StringValues[8];
    private int _count;
    private Dictionary<string, int>? _index;
    private bool _indexValid;
    private bool _hasContentLength;
    private string? _parsedContentLength;
    private long _parsedContentLengthValue;

    private readonly string _readOnlyMessage;

    /// <summary>A collection whose read-only state means the response has started.</summary>
    public HeaderCollection()
        : this("The response headers cannot be modified because the response has already started.")
    {
    }

    /// <summary>A collection that, once read-only, refuses changes with <paramref name="readOnlyMessage"/>.</summary>
    public HeaderCollection(string readOnlyMessage) => _readOnlyMessage = readOnlyMessage;

    /// <summary>Once set, every change throws (the response has started, or the fields are what the client sent).</summary>
    public bool IsReadOnly { get; set; }

    public int Count => _count;

    public StringValues this[string key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            int index = IndexOf(key);
            return index < 0 ? StringValues.Empty : _values[index];
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            ThrowIfReadOnly();
            if (value.Count == 0)
            {
                RemoveKey(key); // as HeaderDictionary: no value removes the field (an empty string is a value)
                return;
            }
            int index = IndexOf(key);
            if (index >= 0)
            {
                _values[index] = value;
            }
            else
            {
                Append(key, value);
            }
        }
    }

    StringValues IDictionary<string, StringValues>.this[string key]
    {
        get => this[key];
        set => this[key] = value;
    }

    /// <summary>Content-Length as a number: null when absent or not one non-negative integer.</summary>
    public long? ContentLength
    {
        get
        {
            if (!_hasContentLength)
            {
                return null; // the usual response: decided without a lookup
            }
            var raw = this[HeaderNames.ContentLength];
            if (raw.Count != 1 || raw[0] is not { Length: > 0 } text)
            {
                return null;
            }
            if (ReferenceEquals(text, _parsedContentLength))
            {
                return _parsedContentLengthValue; // read on every body write: parsed once
            }
            if (!HeaderUtilities.TryParseNonNegativeInt64(new StringSegment(text).Trim(), out long length))
            {
                return null;
            }
            _parsedContentLength = text;
            _parsedContentLengthValue = length;
            return length;
        }
        set
        {
            ThrowIfReadOnly();
            if (value is long length)
            {
                this[HeaderNames.ContentLength] = HeaderUtilities.FormatNonNegativeInt64(length);
            }
            else
            {
                RemoveKey(HeaderNames.ContentLength);
            }
        }
    }

    public ICollection<string> Keys => _names.AsSpan(0, _count).ToArray();

    public ICollection<StringValues> Values => _values.AsSpan(0, _count).ToArray();

    /// <summary>
    /// Replaces the contents with a request's fields; repeated names become one multi-valued field. Bytes
    /// beyond ASCII are decoded as UTF-8, or as Latin-1 when <paramref name="latin1"/> (HttpSys's
    /// UseLatin1RequestHeaders).
    /// </summary>
    public void CopyFrom(RequestHeaders headers, bool latin1)
    {
        Clear();
        for (int i = 0; i < headers.Count; i++)
        {
            string name = headers.NameAt(i);
            string value = headers.ValueAt(i, latin1);
            int index = IndexOf(name);
            if (index >= 0)
            {
                _values[index] = StringValues.Concat(_values[index], value);
            }
            else
            {
                Append(name, value);
            }
        }
    }

    public void Add(string key, StringValues value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfReadOnly();
        if (IndexOf(key) >= 0)
        {
            throw new ArgumentException($"An item with the same key has already been added. Key: {key}", nameof(key));
        }
        Append(key, value);
    }

    public void Add(KeyValuePair<string, StringValues> item) => Add(item.Key, item.Value);

    public void Clear()
    {
        ThrowIfReadOnly();
        Array.Clear(_names, 0, _count);
        Array.Clear(_values, 0, _count);
        _count = 0;
        _indexValid = false;
        _hasContentLength = false;
    }

    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return IndexOf(key) >= 0;
    }

    public bool Contains(KeyValuePair<string, StringValues> item)
    {
        int index = item.Key is null ? -1 : IndexOf(item.Key);
        return index >= 0 && StringValues.Equals(_values[index], item.Value);
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out StringValues value)
    {
        ArgumentNullException.ThrowIfNull(key);
        int index = IndexOf(key);
        if (index < 0)
        {
            value = default;
            return false;
        }
        value = _values[index];
        return true;
    }

    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfReadOnly();
        return RemoveKey(key);
    }

    public bool Remove(KeyValuePair<string, StringValues> item)
    {
        ThrowIfReadOnly();
        return Contains(item) && RemoveKey(item.Key);
    }

    public void CopyTo(KeyValuePair<string, StringValues>[] array, int arrayIndex)
    {
        ArgumentNullException.ThrowIfNull(array);
        if ((uint)arrayIndex > (uint)array.Length || array.Length - arrayIndex < _count)
        {
            throw new ArgumentException("The destination array is too small.", nameof(array));
        }
        for (int i = 0; i < _count; i++)
        {
            array[arrayIndex + i] = new KeyValuePair<string, StringValues>(_names[i], _values[i]);
        }
    }

    /// <summary>The fields in order, without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, StringValues>> IEnumerable<KeyValuePair<string, StringValues>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        if (_count > IndexThreshold)
        {
            return LookupIndex(key);
        }
        var names = _names;
        for (int i = 0; i < _count; i++)
        {
            string name = names[i];
            // Known names are interned by the parser and by HeaderNames, so the reference usually decides.
            if (ReferenceEquals(name, key) || (name.Length == key.Length && string.Equals(name, key, StringComparison.OrdinalIgnoreCase)))
            {
                return i;
            }
        }
        return -1;
    }

    private int LookupIndex(string key)
    {
        if (!_indexValid)
        {
            _index ??= new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            _index.Clear();
            for (int i = 0; i < _count; i++)
            {
                _index.TryAdd(_names[i], i);
            }
            _indexValid = true;
        }
        return _index!.TryGetValue(key, out int index) ? index : -1;
    }

    private void Append(string key, StringValues value)
    {
        if (_count == _names.Length)
        {
            Array.Resize(ref _names, _count * 2);
            Array.Resize(ref _values, _count * 2);
        }
        _names[_count] = key;
        _values[_count] = value;
        if (_indexValid)
        {
            _index!.TryAdd(key, _count);
        }
        _count++;
        if (!_hasContentLength && IsContentLength(key))
        {
            _hasContentLength = true;
        }
    }

    private bool RemoveKey(string key)
    {
        int index = IndexOf(key);
        if (index < 0)
        {
            return false;
        }
        _count--;
        Array.Copy(_names, index + 1, _names, index, _count - index);
        Array.Copy(_values, index + 1, _values, index, _count - index);
        _names[_count] = null!;
        _values[_count] = default;
        _indexValid = false;
        if (IsContentLength(key))
        {
            _hasContentLength = false;
        }
        return true;
    }

    private static bool IsContentLength(string key) =>
        ReferenceEquals(key, KnownHeaders.ContentLength) || string.Equals(key, KnownHeaders.ContentLength, StringComparison.OrdinalIgnoreCase);

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly)
        {
            throw new InvalidOperationException(_readOnlyMessage);
        }
    }

    /// <summary>Walks the fields in order.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<string, StringValues>>
    {
        private readonly HeaderCollection _headers;
        private int _index;

        internal Enumerator(HeaderCollection headers)
        {
            _headers = headers;
            _index = -1;
        }

        public readonly KeyValuePair<string, StringValues> Current => new(_headers._names[_index], _headers._values[_index]);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < _headers._count;

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }
}
