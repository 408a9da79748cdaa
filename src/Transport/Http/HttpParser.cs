using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// The HTTP/1.1 request-head parser (RFC 9112 sections 2 to 5): synchronous, I/O-free, allocation-free
/// and tri-state. It reports a head only when the whole head is buffered, so an incomplete input never
/// consumes anything and the handler never sees half a request.
/// </summary>
public static class HttpParser
{
    /// <summary>
    /// Parses a request head from the start of <paramref name="buffer"/>.
    /// </summary>
    /// <returns>
    /// <see cref="ParseResult.Done"/> with <paramref name="consumed"/> bytes of head (the handler was called);
    /// <see cref="ParseResult.Incomplete"/> with nothing consumed; or <see cref="ParseResult.Invalid"/> with a reason.
    /// </returns>
    public static ParseResult ParseHead<THandler>(in ReadOnlySequence<byte> buffer, ref THandler handler, in HttpParserLimits limits,
        out long consumed, out RequestRejectionReason reason)
        where THandler : IHttpHeadHandler
    {
        // Limits are applied before parsing: bytes past MaxRequestBytes are never examined.
        var head = buffer.Length > limits.MaxRequestBytes ? buffer.Slice(0, limits.MaxRequestBytes) : buffer;
        ParseResult result;
        int used;
        if (head.IsSingleSegment)
        {
            result = ParseHead(head.FirstSpan, ref handler, limits, out used, out reason);
        }
        else
        {
            // A head split across pipe segments is copied once into one span; the parser stays simple.
            int length = (int)head.Length;
            byte[] rented = ArrayPool<byte>.Shared.Rent(length);
            head.CopyTo(rented);
            result = ParseHead(rented.AsSpan(0, length), ref handler, limits, out used, out reason);
            ArrayPool<byte>.Shared.Return(rented);
        }
        consumed = used;
        return result;
    }

    /// <summary>The contiguous-span form of <see cref="ParseHead{THandler}(in ReadOnlySequence{byte}, ref THandler, in HttpParserLimits, out long, out RequestRejectionReason)"/>.</summary>
    public static ParseResult ParseHead<THandler>(ReadOnlySpan<byte> data, ref THandler handler, in HttpParserLimits limits,
        out int consumed, out RequestRejectionReason reason)
        where THandler : IHttpHeadHandler
    {
        if (data.Length > limits.MaxRequestBytes)
        {
            data = data[..limits.MaxRequestBytes];
        }

        // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before the request-line
        // (old clients send a CRLF after a POST body). They count toward MaxRequestBytes.
        int skipped = SkipLeadingEmptyLines(data);
        if (skipped > 0)
        {
            var result = ParseHead(data[skipped..], ref handler, limits with { MaxRequestBytes = limits.MaxRequestBytes - skipped }, out consumed, out reason);
            if (result == ParseResult.Done)
            {
                consumed += skipped;
            }
            return result;
        }

        int headLength = FindHeadEnd(data);
        if (headLength < 0)
        {
            // A line that cannot start a request is refused at its first bytes: a TLS ClientHello or
            // another protocol on the plain port gets its 400 at once, not after MaxFieldLength bytes.
            if (!CanStartRequestLine(data))
            {
                consumed = 0;
                reason = RequestRejectionReason.InvalidMethod;
                return ParseResult.Invalid;
            }
            // Not complete yet: still validate what has arrived (the complete lines, and a bare CR or a
            // Content-Length that decides the request), so it is refused at once rather than after the
            // client fills the limit or HeaderWait runs out.
            consumed = 0;
            var validator = default(ValidatingHandler);
            var result = ParseLines(data, complete: false, ref validator, limits, out _, out reason);
            if (result == ParseResult.Invalid)
            {
                return result;
            }
            if (data.Length >= limits.MaxRequestBytes)
            {
                reason = data.IndexOf((byte)'\n') < 0 ? RequestRejectionReason.RequestLineTooLong : RequestRejectionReason.HeadersTooLarge;
                return ParseResult.Invalid;
            }
            return ParseResult.Incomplete;
        }

        return ParseLines(data[..headLength], complete: true, ref handler, limits, out consumed, out reason);
    }

    /// <summary>The length of the CRLF or LF line ends at the start of <paramref name="data"/> (a lone trailing CR waits for its LF).</summary>
    internal static int SkipLeadingEmptyLines(ReadOnlySpan<byte> data)
    {
        int skipped = 0;
        while (skipped < data.Length)
        {
            if (data[skipped] == (byte)'\n')
            {
                skipped++;
            }
            else if (data[skipped] == (byte)'\r' && skipped + 1 < data.Length && data[skipped + 1] == (byte)'\n')
            {
                skipped += 2;
            }
            else
            {
                break;
            }
        }
        return skipped;
    }

    /// <summary>True while the bytes so far can still be the start of a request-line: a method token, then a space.</summary>
    private static bool CanStartRequestLine(ReadOnlySpan<byte> data)
    {
        if (data.Length == 1 && data[0] == (byte)'\r')
        {
            return true; // the first half of an empty line's CRLF
        }
        int space = data.IndexOf((byte)' ');
        var method = space < 0 ? data : data[..space];
        return method.IndexOfAnyExcept(HttpCharacters.Token) < 0;
    }

    /// <summary>
    /// The length of the head including its terminating empty line, or -1. The head ends at the first
    /// empty line; RFC 9112 section 2.2 lets a recipient treat a bare LF as a line end, as Kestrel does.
    /// </summary>
    internal static int FindHeadEnd(ReadOnlySpan<byte> data)
    {
        int offset = 0;
        while (true)
        {
            int lf = data[offset..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return -1;
            }
            int next = offset + lf + 1;
            if (next < data.Length && data[next] == (byte)'\n')
            {
                return next + 1;
            }
            if (next + 1 < data.Length && data[next] == (byte)'\r' && data[next + 1] == (byte)'\n')
            {
                return next + 2;
            }
            offset = next;
        }
    }

    private static ParseResult ParseLines<THandler>(ReadOnlySpan<byte> data, bool complete, ref THandler handler, in HttpParserLimits limits,
        out int consumed, out RequestRejectionReason reason)
        where THandler : IHttpHeadHandler
    {
        consumed = 0;
        reason = RequestRejectionReason.None;

        int lf = data.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (data.Length > limits.MaxFieldLength)
            {
                reason = RequestRejectionReason.RequestLineTooLong;
                return ParseResult.Invalid;
            }
            return HasBareCarriageReturn(data) ? Reject(RequestRejectionReason.InvalidRequestLine, out reason) : ParseResult.Incomplete;
        }

        var line = TrimCarriageReturn(data[..lf]);
        if (line.Length > limits.MaxFieldLength)
        {
            reason = RequestRejectionReason.RequestLineTooLong;
            return ParseResult.Invalid;
        }
        reason = ParseRequestLine(line, ref handler);
        if (reason != RequestRejectionReason.None)
        {
            return ParseResult.Invalid;
        }

        int position = lf + 1;
        int count = 0;
        bool contentLengthSeen = false;
        while (true)
        {
            var rest = data[position..];
            lf = rest.IndexOf((byte)'\n');
            if (lf < 0)
            {
                if (rest.Length > limits.MaxFieldLength)
                {
                    reason = RequestRejectionReason.HeadersTooLarge;
                    return ParseResult.Invalid;
                }
                // Only an incomplete head can end without its empty line; a bare CR already spoils its last line.
                return complete || HasBareCarriageReturn(rest) ? Reject(RequestRejectionReason.InvalidHeader, out reason) : ParseResult.Incomplete;
            }

            line = TrimCarriageReturn(rest[..lf]);
            position += lf + 1;
            if (line.IsEmpty)
            {
                consumed = position;
                return ParseResult.Done;
            }
            if (line.Length > limits.MaxFieldLength || ++count > limits.MaxRequestHeaderCount)
            {
                reason = RequestRejectionReason.HeadersTooLarge;
                return ParseResult.Invalid;
            }
            if (!TryParseHeaderLine(line, out var name, out var value))
            {
                reason = RequestRejectionReason.InvalidHeader;
                return ParseResult.Invalid;
            }
            if (name.Length == 14 && Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                // The framing hangs on it, so it is judged here, line by line, like the syntax: a second one
                // (even with the same value, as Kestrel refuses it) or one that is not a length decides the
                // request before the head ends (RFC 9110 section 8.6, RFC 9112 section 6.3).
                if (contentLengthSeen || !TryParseContentLength(value, out _))
                {
                    reason = RequestRejectionReason.InvalidContentLength;
                    return ParseResult.Invalid;
                }
                contentLengthSeen = true;
            }
            handler.OnHeader(name, value);
        }
    }

    private static RequestRejectionReason ParseRequestLine<THandler>(ReadOnlySpan<byte> line, ref THandler handler)
        where THandler : IHttpHeadHandler
    {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3); single spaces only.
        int sp = line.IndexOf((byte)' ');
        if (sp <= 0)
        {
            return RequestRejectionReason.InvalidRequestLine;
        }
        var method = line[..sp];
        if (method.IndexOfAnyExcept(HttpCharacters.Token) >= 0)
        {
            return RequestRejectionReason.InvalidMethod;
        }

        var rest = line[(sp + 1)..];
        sp = rest.IndexOf((byte)' ');
        if (sp <= 0)
        {
            return RequestRejectionReason.InvalidRequestLine;
        }
        var target = rest[..sp];
        if (target.IndexOfAnyExcept(HttpCharacters.Target) >= 0)
        {
            return RequestRejectionReason.InvalidRequestTarget;
        }

        var versionText = rest[(sp + 1)..];
        HttpVersion version;
        if (versionText.SequenceEqual("HTTP/1.1"u8))
        {
            version = HttpVersion.Http11;
        }
        else if (versionText.SequenceEqual("HTTP/1.0"u8))
        {
            version = HttpVersion.Http10;
        }
        else if (versionText.Length == 8 && versionText.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)versionText[5])
            && versionText[6] == (byte)'.' && char.IsAsciiDigit((char)versionText[7]))
        {
            // A well-formed version we do not speak (RFC 9110 section 15.6.6).
            return RequestRejectionReason.UnsupportedHttpVersion;
        }
        else
        {
            return RequestRejectionReason.InvalidRequestLine;
        }

        handler.OnRequestLine(method, target, version);
        return RequestRejectionReason.None;
    }

    /// <summary>
    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5). No whitespace between name
    /// and colon (section 5.1), no obsolete line folding (section 5.2): both are rejected with 400.
    /// </summary>
    internal static bool TryParseHeaderLine(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        int colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        if (colon <= 0 || name.IndexOfAnyExcept(HttpCharacters.Token) >= 0)
        {
            return false;
        }
        value = line[(colon + 1)..].Trim(" \t"u8);
        return value.IndexOfAnyExcept(HttpCharacters.FieldValue) < 0;
    }

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 section 8.6) that fits a long: no sign, no list, no spaces.
    /// </summary>
    internal static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        return !value.IsEmpty && value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
            && Utf8Parser.TryParse(value, out length, out int consumed) && consumed == value.Length;
    }

    /// <summary>
    /// True when a line not yet ended holds a CR followed by anything but LF. RFC 9112 section 2.2 makes
    /// such a bare CR invalid wherever it stands in the head, so waiting for the LF could change nothing;
    /// a CR that is the last byte so far may still be the start of a CRLF and waits.
    /// </summary>
    private static bool HasBareCarriageReturn(ReadOnlySpan<byte> unfinishedLine)
    {
        int cr = unfinishedLine.IndexOf((byte)'\r');
        return cr >= 0 && cr < unfinishedLine.Length - 1;
    }

    /// <summary>Drops the CR of a CRLF line end; a bare LF line has none (RFC 9112 section 2.2).</summary>
    internal static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private static ParseResult Reject(RequestRejectionReason why, out RequestRejectionReason reason)
    {
        reason = why;
        return ParseResult.Invalid;
    }

    /// <summary>Checks syntax without keeping anything: used on heads that are not complete yet.</summary>
    private struct ValidatingHandler : IHttpHeadHandler
    {
        public readonly void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version)
        {
        }

        public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
