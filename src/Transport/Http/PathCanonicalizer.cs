using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// Turns the raw path of a request-target into the canonical path that routing and the app see:
/// percent-decoding (except %2F, which stays encoded as Kestrel and HttpSys keep it), '\' (raw or
/// %5C) as '/' as HTTP.sys does, rejection of encoded control characters and invalid UTF-8, and
/// dot-segment removal (RFC 3986 section 5.2.4) after all of that, so that no encoded dot or
/// backslash can step out of a prefix.
/// </summary>
public static class PathCanonicalizer
{
    /// <summary>Canonicalises <paramref name="rawPath"/> (starting with '/'), or returns false when it cannot be.</summary>
    public static bool TryCanonicalize(ReadOnlySpan<byte> rawPath, out string path)
    {
        path = "/";
        if (rawPath.IsEmpty || rawPath[0] != (byte)'/')
        {
            return false;
        }

        // Fast path: nothing encoded and no dot segment means the raw path is already canonical.
        if (rawPath.IndexOfAny((byte)'%', (byte)'\\') < 0 && !HasDotSegment(rawPath))
        {
            if (!Utf8.IsValid(rawPath))
            {
                return false;
            }
            path = Encoding.ASCII.GetString(rawPath);
            return true;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(rawPath.Length);
        try
        {
            int length = Decode(rawPath, rented);
            if (length < 0)
            {
                return false;
            }
            var decoded = rented.AsSpan(0, length);
            if (!Utf8.IsValid(decoded))
            {
                return false;
            }
            length = RemoveDotSegments(decoded);
            path = Encoding.UTF8.GetString(decoded[..length]);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b != (byte)'%')
            {
                destination[written++] = b == (byte)'\\' ? (byte)'/' : b;
                continue;
            }
            if (i + 2 >= source.Length || !char.IsAsciiHexDigit((char)source[i + 1]) || !char.IsAsciiHexDigit((char)source[i + 2]))
            {
                return -1; // a '%' must introduce two hex digits (RFC 3986 section 2.1)
            }
            byte value = (byte)((HttpCharacters.HexValue(source[i + 1]) << 4) | HttpCharacters.HexValue(source[i + 2]));
            if (value < 0x20 || value == 0x7F)
            {
                return -1; // encoded control characters (including %00) are never a path
            }
            if (value == (byte)'\\')
            {
                destination[written++] = (byte)'/'; // %5C is a backslash, and a backslash is a separator
            }
            else if (value == (byte)'/')
            {
                // %2F stays encoded: it is data inside a segment, not a separator.
                destination[written++] = source[i];
                destination[written++] = source[i + 1];
                destination[written++] = source[i + 2];
            }
            else
            {
                destination[written++] = value;
            }
            i += 2;
        }
        return written;
    }

    private static bool HasDotSegment(ReadOnlySpan<byte> path)
    {
        int i = path.IndexOf("/."u8);
        while (i >= 0)
        {
            var rest = path[(i + 2)..];
            if (rest.IsEmpty || rest[0] == (byte)'/' || (rest[0] == (byte)'.' && (rest.Length == 1 || rest[1] == (byte)'/')))
            {
                return true;
            }
            int next = rest.IndexOf("/."u8);
            i = next < 0 ? -1 : i + 2 + next;
        }
        return false;
    }

    /// <summary>RFC 3986 section 5.2.4 in place over a path that starts with '/'; returns the new length.</summary>
    internal static int RemoveDotSegments(Span<byte> path)
    {
        int read = 0;
        int write = 0;
        while (read < path.Length)
        {
            // path[read] is '/'; find the segment that follows it.
            int end = path[(read + 1)..].IndexOf((byte)'/');
            end = end < 0 ? path.Length : read + 1 + end;
            var segment = path[(read + 1)..end];
            if (segment.Length == 1 && segment[0] == (byte)'.')
            {
                if (end == path.Length)
                {
                    path[write++] = (byte)'/';
                }
            }
            else if (segment.Length == 2 && segment[0] == (byte)'.' && segment[1] == (byte)'.')
            {
                // Step back over the last written segment; at the root, stay at the root.
                int last = write > 0 ? path[..write].LastIndexOf((byte)'/') : 0;
                write = Math.Max(last, 0);
                if (end == path.Length)
                {
                    path[write++] = (byte)'/';
                }
            }
            else
            {
                path[read..end].CopyTo(path[write..]);
                write += end - read;
            }
            read = end;
        }
        if (write == 0)
        {
            path[write++] = (byte)'/';
        }
        return write;
    }
}
