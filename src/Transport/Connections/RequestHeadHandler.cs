using System.Text;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// Receives a parsed head for a <see cref="RequestContext"/> and notes what framing and routing need:
/// Host, Content-Length, Transfer-Encoding, Connection, Expect, Upgrade. Semantic errors are recorded in
/// <see cref="Error"/> and judged after the parse, in one place.
/// </summary>
internal struct RequestHeadHandler : IHttpHeadHandler
{
    private readonly RequestContext _context;

    public RequestHeadHandler(RequestContext context) => _context = context;

    public RequestRejectionReason Error;
    public int HostCount;
    public string? Host;
    public bool ConnectionClose;
    public bool ConnectionKeepAlive;
    public bool ConnectionUpgrade;
    public bool HasUpgrade;
    public bool ExpectContinue;
    public bool HasTransferEncoding;
    public bool FinalCodingIsChunked;
    public bool ChunkedSeen;
    public bool UnknownCoding;
    public bool NonChunkedCoding;
    public bool HasAuthorization;
    public bool HasRange;
    public string? IfNoneMatch;
    public string? IfModifiedSince;

    public void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpVersion version)
    {
        var context = _context;
        context.Method = KnownMethods.GetString(method);
        context.Version = version;

        if (target.Length == 1 && target[0] == (byte)'*')
        {
            // asterisk-form is only for a server-wide OPTIONS (RFC 9112 section 3.2.4); with another
            // method the target is fine and the method is not (405, as Kestrel answers).
            if (!ReferenceEquals(context.Method, KnownMethods.Options))
            {
                Error = RequestRejectionReason.MethodNotAllowed;
            }
            context.SetTarget("*", "/", string.Empty, authority: null);
            return;
        }

        // A client that repeats its target (as load generators and polling clients do) reuses the strings.
        if (context.TargetParsed && context.RawTarget.Length == target.Length && Ascii.Equals(target, context.RawTarget))
        {
            return;
        }

        string? authority = null;
        ReadOnlySpan<byte> pathAndQuery;
        if (target[0] == (byte)'/')
        {
            pathAndQuery = target; // origin-form (RFC 9112 section 3.2.1)
        }
        else if (TryGetAbsoluteForm(target, out var authorityBytes, out pathAndQuery))
        {
            // absolute-form (section 3.2.2): the authority replaces Host for routing.
            if (!TryDropUserInfo(ref authorityBytes) || authorityBytes.IsEmpty || !HttpCharacters.IsValidHost(authorityBytes))
            {
                Error = RequestRejectionReason.InvalidRequestTarget;
                return;
            }
            authority = Encoding.ASCII.GetString(authorityBytes);
        }
        else if (target.IndexOfAnyExcept(HttpCharacters.Authority) < 0)
        {
            // authority-form belongs to CONNECT (section 3.2.3), a tunnel an origin server does not open;
            // with any method it is answered 405 and closed (Kestrel answers 405 too).
            Error = RequestRejectionReason.MethodNotAllowed;
            return;
        }
        else
        {
            Error = RequestRejectionReason.InvalidRequestTarget;
            return;
        }

        // A fragment is not part of the resource (RFC 3986 section 3.5) and a client must not send one
        // (RFC 9112 section 3.2), but a target that carries one still names one resource: everything from
        // the first '#' is dropped before the path and query are read, so its '/', '..' or '?' can never
        // reach canonicalisation or routing. RawTarget keeps it as received. (Kestrel keeps it in the
        // path instead; a proxy that reads it as a fragment would then route elsewhere than we do.)
        int hash = pathAndQuery.IndexOf((byte)'#');
        if (hash >= 0)
        {
            pathAndQuery = pathAndQuery[..hash];
        }
        int question = pathAndQuery.IndexOf((byte)'?');
        var rawPath = question < 0 ? pathAndQuery : pathAndQuery[..question];
        var query = question < 0 ? default : pathAndQuery[question..];
        if (rawPath.IsEmpty)
        {
            rawPath = "/"u8;
        }
        if (!PathCanonicalizer.TryCanonicalize(rawPath, out string path))
        {
            Error = RequestRejectionReason.InvalidPath;
            return;
        }
        if (!context.Limits.AllowsPath(path))
        {
            Error = RequestRejectionReason.UrlSegmentLimitExceeded;
            return;
        }
        context.SetTarget(Encoding.ASCII.GetString(target), path, query.IsEmpty ? string.Empty : Encoding.ASCII.GetString(query), authority);
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        // Known names are interned, so framing headers are recognised by reference.
        string known = _context.Headers.Add(name, value);
        if (ReferenceEquals(known, KnownHeaders.Host))
        {
            HostCount++;
            Host = _context.Headers.ValueAt(_context.Headers.Count - 1);
            if (!HttpCharacters.IsValidHost(value))
            {
                Error = RequestRejectionReason.InvalidHost;
            }
        }
        else if (ReferenceEquals(known, KnownHeaders.ContentLength))
        {
            OnContentLength(value);
        }
        else if (ReferenceEquals(known, KnownHeaders.TransferEncoding))
        {
            HasTransferEncoding = true;
            OnTransferCodings(value);
        }
        else if (ReferenceEquals(known, KnownHeaders.Connection))
        {
            OnConnectionOptions(value);
        }
        else if (ReferenceEquals(known, KnownHeaders.Expect))
        {
            ExpectContinue |= Ascii.EqualsIgnoreCase(value, "100-continue"u8);
        }
        else if (ReferenceEquals(known, KnownHeaders.Upgrade))
        {
            HasUpgrade = true;
        }
        // What the response cache must know (docs/design.md section 5).
        else if (ReferenceEquals(known, KnownHeaders.Authorization))
        {
            HasAuthorization = true;
        }
        else if (ReferenceEquals(known, KnownHeaders.Range) || ReferenceEquals(known, KnownHeaders.IfRange))
        {
            HasRange = true;
        }
        else if (ReferenceEquals(known, KnownHeaders.IfNoneMatch))
        {
            IfNoneMatch = _context.Headers.ValueAt(_context.Headers.Count - 1);
        }
        else if (ReferenceEquals(known, KnownHeaders.IfModifiedSince))
        {
            IfModifiedSince = _context.Headers.ValueAt(_context.Headers.Count - 1);
        }
    }

    /// <summary>
    /// Semantic checks once the head parsed (RFC 9112 sections 3.2, 6.1, 6.3, 9.3), and what follows from
    /// them for the request: its framing, Host, and whether the connection persists after it.
    /// </summary>
    public readonly RequestRejectionReason Validate(out bool keepAlive)
    {
        keepAlive = false;
        if (Error != RequestRejectionReason.None)
        {
            return Error;
        }
        var context = _context;
        var version = context.Version;
        // A 1.1 request carries exactly one Host; a 1.0 request at most one (RFC 9112 section 3.2).
        if (HostCount > 1 || (version == HttpVersion.Http11 && HostCount == 0))
        {
            return RequestRejectionReason.InvalidHost;
        }
        if (context.TargetAuthority is { } authority && Host is { } host && !HostMatchesAuthority(host, authority))
        {
            return RequestRejectionReason.InvalidHost;
        }
        if (HasTransferEncoding)
        {
            if (context.ContentLength is not null)
            {
                // Allowed by RFC 9112 section 6.1 with Transfer-Encoding winning, but it is the smuggling door: refuse.
                return RequestRejectionReason.TransferEncodingWithContentLength;
            }
            if (version == HttpVersion.Http10)
            {
                return RequestRejectionReason.FinalCodingNotChunked; // 1.0 framing with a coding is faulty (section 6.1)
            }
            if (UnknownCoding)
            {
                return RequestRejectionReason.UnknownTransferCoding;
            }
            if (!FinalCodingIsChunked)
            {
                return RequestRejectionReason.FinalCodingNotChunked; // section 6.3: the length cannot be known, 400
            }
            if (NonChunkedCoding)
            {
                // A registered coding before the final chunked (gzip, deflate, compress): the framing is
                // sound, but we would hand the app a body still in a coding we do not decode (501, section 6.1).
                return RequestRejectionReason.UnknownTransferCoding;
            }
            context.IsChunked = true;
        }

        // Persistence (RFC 9112 section 9.3): 1.1 persists unless "close"; 1.0 only with "keep-alive".
        keepAlive = version == HttpVersion.Http11 ? !ConnectionClose : ConnectionKeepAlive && !ConnectionClose;
        context.ExpectContinue = ExpectContinue && version == HttpVersion.Http11 && context.HasRequestBody;
        context.Host = context.TargetAuthority ?? Host ?? string.Empty;
        context.IsCacheableRequest = ReferenceEquals(context.Method, KnownMethods.Get) && !context.HasRequestBody
            && !HasAuthorization && !HasRange;
        context.IsUpgradableRequest = version == HttpVersion.Http11 && ConnectionUpgrade && HasUpgrade;
        return RequestRejectionReason.None;
    }

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 section 8.6). A repeated field is refused even with the same
    /// value (section 8.6 lets a recipient reject it; Kestrel does): two framing claims are one too many.
    /// The parser has already refused both as their lines arrived; this keeps the handler sound alone.
    /// </summary>
    private void OnContentLength(ReadOnlySpan<byte> value)
    {
        if (!HttpParser.TryParseContentLength(value, out long length) || _context.ContentLength is not null)
        {
            Error = RequestRejectionReason.InvalidContentLength;
            return;
        }
        _context.ContentLength = length;
    }

    /// <summary>
    /// transfer-coding list (RFC 9112 section 6.1): chunked at most once and last. We decode chunked
    /// alone: a coding outside the registry is unknown (501 whatever else the list says); one of the
    /// registry's (gzip, deflate, compress) is recognised so that "chunked not last" stays the 400 of
    /// section 6.3, and before a final chunked it is 501 too.
    /// </summary>
    private void OnTransferCodings(ReadOnlySpan<byte> value)
    {
        foreach (var range in value.Split((byte)','))
        {
            var coding = value[range].Trim(" \t"u8);
            if (coding.IsEmpty)
            {
                continue; // empty list elements are allowed (RFC 9110 section 5.6.1)
            }
            if (Ascii.EqualsIgnoreCase(coding, "chunked"u8))
            {
                if (ChunkedSeen)
                {
                    Error = RequestRejectionReason.FinalCodingNotChunked;
                }
                ChunkedSeen = true;
                FinalCodingIsChunked = true;
                continue;
            }
            FinalCodingIsChunked = false;
            NonChunkedCoding = true;
            if (!(Ascii.EqualsIgnoreCase(coding, "gzip"u8) || Ascii.EqualsIgnoreCase(coding, "deflate"u8)
                || Ascii.EqualsIgnoreCase(coding, "compress"u8) || Ascii.EqualsIgnoreCase(coding, "x-gzip"u8)
                || Ascii.EqualsIgnoreCase(coding, "x-compress"u8)))
            {
                UnknownCoding = true;
            }
        }
        if (value.Trim(" \t"u8).IsEmpty)
        {
            FinalCodingIsChunked = false;
        }
    }

    private void OnConnectionOptions(ReadOnlySpan<byte> value)
    {
        foreach (var range in value.Split((byte)','))
        {
            var option = value[range].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                ConnectionClose = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                ConnectionKeepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "upgrade"u8))
            {
                ConnectionUpgrade = true;
            }
        }
    }

    /// <summary>
    /// RFC 9112 section 3.2.2: with an absolute-form target the client must send a Host identical to its
    /// authority. As Kestrel does, an explicit default port (:80) on one side and none on the other match.
    /// </summary>
    public static bool HostMatchesAuthority(string host, string authority)
    {
        if (string.Equals(host, authority, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return WithoutDefaultPort(host).Equals(WithoutDefaultPort(authority), StringComparison.OrdinalIgnoreCase);

        static ReadOnlySpan<char> WithoutDefaultPort(string value) =>
            value.EndsWith(":80", StringComparison.Ordinal) ? value.AsSpan(0, value.Length - 3) : value;
    }

    /// <summary>
    /// authority = [ userinfo "@" ] host [ ":" port ] (RFC 3986 section 3.2): drops the userinfo, which
    /// names no part of the resource and which a client should not send (RFC 9110 section 4.2.4). It cannot
    /// hide the authority from us: routing and the Host check use only what follows the '@'. False when
    /// the userinfo holds a character RFC 3986 does not allow there: a second '@', or a '\', which URL
    /// parsers that follow the WHATWG standard read as the end of the authority, so the two readings
    /// would name different hosts.
    /// </summary>
    private static bool TryDropUserInfo(ref ReadOnlySpan<byte> authority)
    {
        int at = authority.IndexOf((byte)'@');
        if (at < 0)
        {
            return true;
        }
        if (authority[..at].IndexOfAnyExcept(HttpCharacters.UserInfo) >= 0)
        {
            return false;
        }
        authority = authority[(at + 1)..];
        return true;
    }

    private static bool TryGetAbsoluteForm(ReadOnlySpan<byte> target, out ReadOnlySpan<byte> authority, out ReadOnlySpan<byte> pathAndQuery)
    {
        authority = default;
        pathAndQuery = default;
        int schemeLength;
        if (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        {
            schemeLength = 7;
        }
        else if (target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8))
        {
            schemeLength = 8;
        }
        else
        {
            return false;
        }
        var rest = target[schemeLength..];
        int end = rest.IndexOfAny((byte)'/', (byte)'?', (byte)'#'); // what ends the authority (RFC 3986 section 3.2)
        authority = end < 0 ? rest : rest[..end];
        pathAndQuery = end < 0 ? "/"u8 : rest[end..];
        return true;
    }
}
