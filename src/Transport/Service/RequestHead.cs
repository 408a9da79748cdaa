using System.Net;
using HttpSysLite.Transport.Http;
using HttpVersion = HttpSysLite.Transport.Http.HttpVersion;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// A request's head as an app process receives it over a driver channel (HTTP_REQUEST, in the
/// driver's words): everything the in-process RequestContext tells the server before the body. One
/// per request slot of a channel, reused; its strings are the message's, interned where the parser
/// would intern them.
/// </summary>
public sealed class RequestHead
{
    /// <summary>The driver's request id (HTTP_REQUEST_ID), unique in the driver process.</summary>
    public ulong RequestId { get; internal set; }

    /// <summary>The driver's connection id (HTTP_CONNECTION_ID).</summary>
    public ulong ConnectionId { get; internal set; }

    /// <summary>The method, interned for the standard ones.</summary>
    public string Method { get; internal set; } = KnownMethods.Get;

    /// <summary>The request-target exactly as received.</summary>
    public string RawTarget { get; internal set; } = "/";

    /// <summary>The matched prefix path without its trailing slash.</summary>
    public string PathBase { get; internal set; } = string.Empty;

    /// <summary>The canonical path after <see cref="PathBase"/>.</summary>
    public string Path { get; internal set; } = "/";

    /// <summary>"" or the query with its leading '?'.</summary>
    public string QueryString { get; internal set; } = string.Empty;

    /// <summary>HTTP/1.0 or HTTP/1.1.</summary>
    public HttpVersion Version { get; internal set; }

    /// <summary>True when the request came over TLS.</summary>
    public bool IsHttps { get; internal set; }

    /// <summary>The declared Content-Length, or null.</summary>
    public long? ContentLength { get; internal set; }

    /// <summary>True when the body uses the chunked transfer coding.</summary>
    public bool IsChunked { get; internal set; }

    /// <summary>True when the client waits for 100 Continue before its body.</summary>
    public bool ExpectContinue { get; internal set; }

    /// <summary>True when the request may be upgraded (101 Switching Protocols).</summary>
    public bool IsUpgradableRequest { get; internal set; }

    /// <summary>True when the driver's cache may keep the response.</summary>
    public bool IsCacheableRequest { get; internal set; }

    /// <summary>The client's endpoint.</summary>
    public IPEndPoint RemoteEndPoint { get; internal set; } = new(IPAddress.None, 0);

    /// <summary>The endpoint the client connected to.</summary>
    public IPEndPoint LocalEndPoint { get; internal set; } = new(IPAddress.None, 0);

    /// <summary>The header fields, byte for byte as received.</summary>
    public RequestHeaders Headers { get; } = new();

    /// <summary>What the connection's TLS handshake settled, for an https request; else null.</summary>
    public Tls.TlsConnectionInfo? Tls { get; internal set; }
}
