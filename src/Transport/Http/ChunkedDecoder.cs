using System.Buffers;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// Decodes the chunked transfer coding (RFC 9112 section 7.1) incrementally: framing is consumed,
/// chunk data is copied to the caller's buffer, and the fields of the trailer section (section 7.1.2)
/// are added to the caller's collection as data. One instance per request body; state survives
/// across reads, so a chunk may arrive one byte at a time.
/// </summary>
public struct ChunkedDecoder
{
    /// <summary>The longest chunk-size line (size plus extensions) accepted; longer is an attack, not a body.</summary>
    public const int MaxChunkLineLength = 4096;

    private const int MaxSizeDigits = 15; // 15 hex digits stay below long.MaxValue

    private State _state;
    private long _remaining;
    private int _trailerBytes;
    private int _trailerCount;

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailer,
        Complete,
    }

    /// <summary>True once the last chunk and the trailer section have been consumed.</summary>
    public readonly bool IsComplete => _state == State.Complete;

    /// <summary>
    /// Decodes from <paramref name="input"/> into <paramref name="destination"/>; trailer fields are checked
    /// and dropped.
    /// </summary>
    /// <returns>
    /// <see cref="ParseResult.Done"/> when data was written or the body completed; <see cref="ParseResult.Incomplete"/>
    /// when more input is needed and nothing was written; <see cref="ParseResult.Invalid"/> on bad framing.
    /// </returns>
    public ParseResult Decode(in ReadOnlySequence<byte> input, Span<byte> destination, in HttpParserLimits limits,
        out SequencePosition consumed, out int written, out RequestRejectionReason reason) =>
        Decode(input, destination, limits, trailers: null, out consumed, out written, out reason);

    /// <summary>
    /// Decodes from <paramref name="input"/> into <paramref name="destination"/>, adding each field of the
    /// trailer section to <paramref name="trailers"/> as its line is consumed. The fields are complete only
    /// once <see cref="IsComplete"/>; after an invalid line the collection holds the ones before it.
    /// </summary>
    /// <returns>As the overload without trailers.</returns>
    internal ParseResult Decode(in ReadOnlySequence<byte> input, Span<byte> destination, in HttpParserLimits limits, RequestHeaders? trailers,
        out SequencePosition consumed, out int written, out RequestRejectionReason reason)
    {
        var reader = new SequenceReader<byte>(input);
        written = 0;
        reason = RequestRejectionReason.None;
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                    if (!reader.TryReadTo(out ReadOnlySequence<byte> sizeLine, (byte)'\n'))
                    {
                        if (reader.Remaining > MaxChunkLineLength)
                        {
                            return Fail(ref reader, out consumed, out reason);
                        }
                        return NeedMore(ref reader, written, out consumed);
                    }
                    if (sizeLine.Length > MaxChunkLineLength || !TryParseSizeLine(sizeLine, out _remaining))
                    {
                        return Fail(ref reader, out consumed, out reason);
                    }
                    _state = _remaining == 0 ? State.Trailer : State.Data;
                    break;

                case State.Data:
                    int take = (int)Math.Min(Math.Min(_remaining, reader.Remaining), destination.Length - written);
                    if (take == 0)
                    {
                        if (written == destination.Length)
                        {
                            consumed = reader.Position;
                            return ParseResult.Done;
                        }
                        return NeedMore(ref reader, written, out consumed);
                    }
                    reader.UnreadSequence.Slice(0, take).CopyTo(destination[written..]);
                    reader.Advance(take);
                    written += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = State.DataEnd;
                    }
                    break;

                case State.DataEnd:
                    // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF: exactly CRLF (see TryTrimCarriageReturn).
                    if (!reader.TryPeek(out byte first))
                    {
                        return NeedMore(ref reader, written, out consumed);
                    }
                    if (first != (byte)'\r')
                    {
                        return Fail(ref reader, out consumed, out reason);
                    }
                    if (!reader.TryPeek(1, out byte second))
                    {
                        return NeedMore(ref reader, written, out consumed);
                    }
                    if (second != (byte)'\n')
                    {
                        return Fail(ref reader, out consumed, out reason);
                    }
                    reader.Advance(2);
                    _state = State.Size;
                    break;

                case State.Trailer:
                    // trailer-section = *( field-line CRLF ) CRLF (RFC 9112 section 7.1.2), held to the head's limits.
                    if (!reader.TryReadTo(out ReadOnlySequence<byte> trailerLine, (byte)'\n'))
                    {
                        if (_trailerBytes + reader.Remaining > limits.MaxRequestBytes)
                        {
                            return Fail(ref reader, out consumed, out reason);
                        }
                        return NeedMore(ref reader, written, out consumed);
                    }
                    // MaxFieldLength counts a field line without its CRLF, as in the head (the CR is still in trailerLine).
                    _trailerBytes += (int)Math.Min(trailerLine.Length + 1, int.MaxValue / 2);
                    if (_trailerBytes > limits.MaxRequestBytes || trailerLine.Length - 1 > limits.MaxFieldLength)
                    {
                        return Fail(ref reader, out consumed, out reason);
                    }
                    if (!TryTakeTrailerLine(trailerLine, limits, ref _trailerCount, trailers, out bool empty))
                    {
                        return Fail(ref reader, out consumed, out reason);
                    }
                    if (empty)
                    {
                        _state = State.Complete;
                    }
                    break;

                case State.Complete:
                    consumed = reader.Position;
                    return ParseResult.Done;
            }
        }
    }

    private static ParseResult NeedMore(ref SequenceReader<byte> reader, int written, out SequencePosition consumed)
    {
        consumed = reader.Position;
        return written > 0 ? ParseResult.Done : ParseResult.Incomplete;
    }

    private static ParseResult Fail(ref SequenceReader<byte> reader, out SequencePosition consumed, out RequestRejectionReason reason)
    {
        consumed = reader.Position;
        reason = RequestRejectionReason.InvalidChunk;
        return ParseResult.Invalid;
    }

    private static bool TryParseSizeLine(in ReadOnlySequence<byte> sequence, out long size)
    {
        size = 0;
        if (sequence.IsSingleSegment)
        {
            return TryTrimCarriageReturn(sequence.FirstSpan, out var line) && TryParseSizeLine(line, out size);
        }
        Span<byte> copy = stackalloc byte[MaxChunkLineLength];
        sequence.CopyTo(copy);
        return TryTrimCarriageReturn(copy[..(int)sequence.Length], out var copied) && TryParseSizeLine(copied, out size);
    }

    /// <summary>
    /// The framing lines of a chunked body end in CRLF (RFC 9112 section 7.1). Unlike the head, a bare LF
    /// is refused here: chunk boundaries that two parsers read differently are how bodies hide requests.
    /// </summary>
    private static bool TryTrimCarriageReturn(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> trimmed)
    {
        bool hasCr = line.Length > 0 && line[^1] == (byte)'\r';
        trimmed = hasCr ? line[..^1] : default;
        return hasCr;
    }

    /// <summary>chunk-size [ chunk-ext ], without the line end (RFC 9112 section 7.1 and 7.1.1).</summary>
    internal static bool TryParseSizeLine(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        int i = 0;
        while (i < line.Length && char.IsAsciiHexDigit((char)line[i]))
        {
            if (i == MaxSizeDigits)
            {
                return false;
            }
            size = (size << 4) | (long)HttpCharacters.HexValue(line[i]);
            i++;
        }
        if (i == 0)
        {
            return false;
        }
        return IsValidExtensions(line[i..]);
    }

    /// <summary>
    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ); values are token or
    /// quoted-string. Every BWS of the grammar leads to a ';' or a '=': chunk-size has none of its own
    /// (RFC 9112 section 7.1), so whitespace that ends the line ("a \r\n", "5;x=y \r\n") is refused.
    /// </summary>
    internal static bool IsValidExtensions(ReadOnlySpan<byte> ext)
    {
        int i = 0;
        while (true)
        {
            int start = i;
            i = SkipWhitespace(ext, i);
            if (i == ext.Length)
            {
                return i == start;
            }
            if (ext[i] != (byte)';')
            {
                return false;
            }
            i = SkipWhitespace(ext, i + 1);
            int nameLength = TokenLength(ext[i..]);
            if (nameLength == 0)
            {
                return false;
            }
            i += nameLength;
            int equals = SkipWhitespace(ext, i);
            if (equals < ext.Length && ext[equals] == (byte)'=')
            {
                i = SkipWhitespace(ext, equals + 1);
                if (i < ext.Length && ext[i] == (byte)'"')
                {
                    int quoted = QuotedStringLength(ext[i..]);
                    if (quoted == 0)
                    {
                        return false;
                    }
                    i += quoted;
                }
                else
                {
                    int valueLength = TokenLength(ext[i..]);
                    if (valueLength == 0)
                    {
                        return false;
                    }
                    i += valueLength;
                }
            }
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && (s[i] == (byte)' ' || s[i] == (byte)'\t'))
        {
            i++;
        }
        return i;
    }

    private static int TokenLength(ReadOnlySpan<byte> s)
    {
        int end = s.IndexOfAnyExcept(HttpCharacters.Token);
        return end < 0 ? s.Length : end;
    }

    /// <summary>quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 section 5.6.4); 0 when malformed.</summary>
    private static int QuotedStringLength(ReadOnlySpan<byte> s)
    {
        for (int i = 1; i < s.Length; i++)
        {
            byte b = s[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }
            if (b == (byte)'\\')
            {
                i++;
                if (i == s.Length || (s[i] < 0x20 && s[i] != (byte)'\t') || s[i] == 0x7F)
                {
                    return 0;
                }
            }
            else if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
            {
                return 0;
            }
        }
        return 0;
    }

    /// <summary>
    /// One line of the trailer section: the empty line that ends it, or a field line held to the head's
    /// syntax and count, which is added to <paramref name="trailers"/>. The fields stay trailers: none is
    /// merged into the headers or read for framing (RFC 9110 section 6.5.2), whatever its name.
    /// </summary>
    private static bool TryTakeTrailerLine(in ReadOnlySequence<byte> sequence, in HttpParserLimits limits, ref int count,
        RequestHeaders? trailers, out bool empty)
    {
        byte[]? rented = null;
        ReadOnlySpan<byte> line;
        if (sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)sequence.Length);
            sequence.CopyTo(rented);
            line = rented.AsSpan(0, (int)sequence.Length);
        }
        bool valid = TryTrimCarriageReturn(line, out line);
        empty = valid && line.IsEmpty;
        if (valid && !empty)
        {
            if (++count > limits.MaxRequestHeaderCount || !HttpParser.TryParseHeaderLine(line, out var name, out var value))
            {
                valid = false;
            }
            else
            {
                trailers?.Add(name, value);
            }
        }
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        return valid;
    }
}
