using System.Buffers;

namespace HttpSysLite.Transport.Http;

/// <summary>The character classes of RFC 9110 section 5.6 and RFC 3986, as vectorised sets.</summary>
internal static class HttpCharacters
{
    /// <summary>tchar (RFC 9110 section 5.6.2): the characters of a method or field name.</summary>
    public static readonly SearchValues<byte> Token =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// field-vchar / SP / HTAB / obs-text (RFC 9110 section 5.5): anything but CTLs other than HTAB, and DEL.
    /// CR, LF and NUL inside a value are the classic smuggling tools, so they are rejected here.
    /// </summary>
    public static readonly SearchValues<byte> FieldValue = SearchValues.Create(BuildFieldValue());

    /// <summary>
    /// The bytes a request-target may carry: every visible ASCII character (0x21 to 0x7E). RFC 3986
    /// leaves out '"', '&lt;', '&gt;', '\', '^', '`', '{', '|' and '}', but clients send them raw (the
    /// WHATWG URL standard leaves several unencoded) and Kestrel accepts them; each reads one way only,
    /// and each already reached the app through its percent-encoding, so refusing the raw form protected
    /// nothing. '#' is accepted too and ends the target's path or query (the handler drops the fragment).
    /// Still refused, because they have no single reading: SP, which ends the target (RFC 9112 section
    /// 3); CTLs and DEL, which are never part of a URI and are how heads are split; and bytes above 0x7F,
    /// which are UTF-8 to one parser and Latin-1 to the next (percent-encode them). See docs/design.md
    /// section 4.
    /// </summary>
    public static readonly SearchValues<byte> Target = SearchValues.Create(BuildVisibleAscii());

    /// <summary>Characters of a Host value: reg-name, IP literal brackets, port colon (RFC 3986 section 3.2.2).</summary>
    public static readonly SearchValues<byte> Authority =
        SearchValues.Create("!$&'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~%"u8);

    /// <summary>reg-name and IPv4address characters: unreserved, pct-encoded, sub-delims (RFC 3986 section 3.2.2).</summary>
    public static readonly SearchValues<byte> RegName =
        SearchValues.Create("!$&'()*+,-.0123456789;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~%"u8);

    /// <summary>userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) (RFC 3986 section 3.2.1).</summary>
    public static readonly SearchValues<byte> UserInfo =
        SearchValues.Create("!$&'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~%"u8);

    /// <summary>What may stand between the brackets of an IP-literal: an IPv6 address (RFC 3986 section 3.2.2).</summary>
    public static readonly SearchValues<byte> IPv6Literal = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

    /// <summary>
    /// True for uri-host [ ":" port ] (RFC 9110 section 7.2, RFC 3986 section 3.2.2): a bracketed IPv6
    /// literal or a reg-name, then at most one colon and digits. Empty is valid (an empty authority).
    /// </summary>
    public static bool IsValidHost(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return true;
        }
        ReadOnlySpan<byte> port;
        if (value[0] == (byte)'[')
        {
            int close = value.IndexOf((byte)']');
            if (close < 2 || value[1..close].IndexOfAnyExcept(IPv6Literal) >= 0)
            {
                return false;
            }
            port = value[(close + 1)..];
        }
        else
        {
            int colon = value.IndexOf((byte)':');
            var name = colon < 0 ? value : value[..colon];
            if (name.IndexOfAnyExcept(RegName) >= 0)
            {
                return false;
            }
            port = colon < 0 ? default : value[colon..];
        }
        return port.IsEmpty || (port[0] == (byte)':' && port[1..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0);
    }

    /// <summary>Characters a response header value may carry: visible ASCII, SP and HTAB (as Kestrel enforces).</summary>
    public static readonly SearchValues<char> ResponseValue = SearchValues.Create(BuildResponseValue());

    /// <summary>tchar as chars, for response header names.</summary>
    public static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>The value of one hex digit already checked with char.IsAsciiHexDigit.</summary>
    public static int HexValue(byte digit) => digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;

    private static byte[] BuildVisibleAscii()
    {
        var bytes = new byte[0x7F - 0x21];
        for (int b = 0x21; b < 0x7F; b++)
        {
            bytes[b - 0x21] = (byte)b;
        }
        return bytes;
    }

    private static byte[] BuildFieldValue()
    {
        var bytes = new List<byte> { (byte)'\t' };
        for (int b = 0x20; b <= 0xFF; b++)
        {
            if (b != 0x7F)
            {
                bytes.Add((byte)b);
            }
        }
        return bytes.ToArray();
    }

    private static string BuildResponseValue()
    {
        var chars = new char[1 + 0x7F - 0x20];
        chars[0] = '\t';
        for (int c = 0x20; c < 0x7F; c++)
        {
            chars[c - 0x20 + 1] = (char)c;
        }
        return new string(chars);
    }
}
