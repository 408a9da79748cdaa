using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;

namespace HttpSysLite.Transport.Diagnostics;

/// <summary>
/// The driver's trace, named after HTTP.sys's own (Microsoft-Windows-HttpService): the same event names,
/// ids and keywords (docs/design.md section 8), so a request can be followed step by step —
/// ConnConnect → ConnIdAssgn → RecvReq → Parse → Deliver → FastResp → FastSend → SendComplete → ConnClose → ConnCleanup
/// (HTTP.sys's typical request, plus our SendComplete and ConnClose).
/// Ids are the 64-bit ones the app sees (IHttpConnectionFeature.ConnectionId and TraceIdentifier are
/// their hexadecimal forms). The events of one request carry one activity id (<see cref="RequestActivityId"/>).
/// Call sites test <see cref="EventSource.IsEnabled()"/> first, so a process nobody traces pays one branch
/// per event; payloads are written from the stack.
/// </summary>
[EventSource(Name = SourceName)]
public sealed unsafe class HttpSysLiteEventSource : EventSource
{
    /// <summary>The provider name to give dotnet-trace, tools/Trace or an EventListener.</summary>
    public const string SourceName = "HttpSysLite";

    /// <summary>The one instance.</summary>
    public static readonly HttpSysLiteEventSource Log = new();

    private HttpSysLiteEventSource()
    {
    }

    /// <summary>HTTP.sys's keyword values.</summary>
    public static class Keywords
    {
        /// <summary>Request receipt, parsing, delivery.</summary>
        public const EventKeywords Request = (EventKeywords)0x2;
        /// <summary>Response sends.</summary>
        public const EventKeywords Response = (EventKeywords)0x4;
        /// <summary>Connection setup and teardown.</summary>
        public const EventKeywords Connection = (EventKeywords)0x10;
        /// <summary>The response cache.</summary>
        public const EventKeywords Cache = (EventKeywords)0x20;
        /// <summary>URL registrations.</summary>
        public const EventKeywords UrlGroup = (EventKeywords)0x40;
        /// <summary>Request queues: requests turned away.</summary>
        public const EventKeywords RequestQueue = (EventKeywords)0x100;
        /// <summary>Timers that expired.</summary>
        public const EventKeywords Timeout = (EventKeywords)0x1000;

        /// <summary>TLS handshakes (HTTP.sys's SSL keyword).</summary>
        public const EventKeywords Ssl = (EventKeywords)0x8;
    }

    /// <summary>The activity id every event of request <paramref name="requestId"/> carries: the id in its first eight bytes.</summary>
    public static Guid RequestActivityId(ulong requestId) =>
        new((uint)(requestId >> 32), (ushort)(requestId >> 16), (ushort)requestId, 0x48, 0x53, 0x59, 0x53, 0x4C, 0x49, 0x54, 0x45);

    /// <summary>A request's first bytes arrived on a connection.</summary>
    [Event(1, Level = EventLevel.Informational, Keywords = Keywords.Request)]
    public void RecvReq(ulong RequestId, ulong ConnectionId)
    {
        EventData* data = stackalloc EventData[2];
        Set(ref data[0], &RequestId);
        Set(ref data[1], &ConnectionId);
        WriteRequestEvent(1, RequestId, 2, data);
    }

    /// <summary>The request head parsed and validated: its verb and URL.</summary>
    [Event(2, Level = EventLevel.Informational, Keywords = Keywords.Request)]
    public void Parse(ulong RequestId, string HttpVerb, string Url)
    {
        fixed (char* verb = HttpVerb)
        fixed (char* url = Url)
        {
            EventData* data = stackalloc EventData[3];
            Set(ref data[0], &RequestId);
            Set(ref data[1], verb, HttpVerb);
            Set(ref data[2], url, Url);
            WriteRequestEvent(2, RequestId, 3, data);
        }
    }

    /// <summary>The request was handed to its request queue's app.</summary>
    [Event(3, Level = EventLevel.Informational, Keywords = Keywords.Request)]
    public void Deliver(ulong RequestId, string RequestQueueName, string Url)
    {
        fixed (char* queue = RequestQueueName)
        fixed (char* url = Url)
        {
            EventData* data = stackalloc EventData[3];
            Set(ref data[0], &RequestId);
            Set(ref data[1], queue, RequestQueueName);
            Set(ref data[2], url, Url);
            WriteRequestEvent(3, RequestId, 3, data);
        }
    }

    /// <summary>The response head went out (HttpSendHttpResponse): status, verb, head size, body pieces with it, cache policy.</summary>
    [Event(8, Level = EventLevel.Informational, Keywords = Keywords.Response)]
    public void FastResp(ulong RequestId, ulong ConnectionId, int StatusCode, string HttpVerb, int HeaderLength, int EntityChunkCount, string CachePolicy)
    {
        fixed (char* verb = HttpVerb)
        fixed (char* policy = CachePolicy)
        {
            EventData* data = stackalloc EventData[7];
            Set(ref data[0], &RequestId);
            Set(ref data[1], &ConnectionId);
            Set(ref data[2], &StatusCode);
            Set(ref data[3], verb, HttpVerb);
            Set(ref data[4], &HeaderLength);
            Set(ref data[5], &EntityChunkCount);
            Set(ref data[6], policy, CachePolicy);
            WriteRequestEvent(8, RequestId, 7, data);
        }
    }

    /// <summary>The whole response was handed to the connection.</summary>
    [Event(10, Level = EventLevel.Informational, Keywords = Keywords.Response)]
    public void SendComplete(ulong RequestId, ulong ConnectionId, long BytesSent)
    {
        EventData* data = stackalloc EventData[3];
        Set(ref data[0], &RequestId);
        Set(ref data[1], &ConnectionId);
        Set(ref data[2], &BytesSent);
        WriteRequestEvent(10, RequestId, 3, data);
    }

    /// <summary>
    /// The last of the response, with its status, was queued for sending: HTTP.sys's "Queued last response
    /// for sending" (its payload is RequestId and HttpStatus; ConnectionId is ours, as on every response
    /// event). Once per response, whether the body went in one write, in chunks, or not at all.
    /// </summary>
    /// <remarks>Version 1: version 0 was written per flushed body piece, with its byte count.</remarks>
    [Event(12, Level = EventLevel.Informational, Keywords = Keywords.Response, Version = 1)]
    public void FastSend(ulong RequestId, ulong ConnectionId, int HttpStatus)
    {
        EventData* data = stackalloc EventData[3];
        Set(ref data[0], &RequestId);
        Set(ref data[1], &ConnectionId);
        Set(ref data[2], &HttpStatus);
        WriteRequestEvent(12, RequestId, 3, data);
    }

    /// <summary>Answered from the response cache: the app never saw the request.</summary>
    [Event(16, Level = EventLevel.Informational, Keywords = Keywords.Cache)]
    public void SrvdFrmCache(ulong RequestId, ulong ConnectionId, string Url, long BytesSent)
    {
        fixed (char* url = Url)
        {
            EventData* data = stackalloc EventData[4];
            Set(ref data[0], &RequestId);
            Set(ref data[1], &ConnectionId);
            Set(ref data[2], url, Url);
            Set(ref data[3], &BytesSent);
            WriteRequestEvent(16, RequestId, 4, data);
        }
    }

    /// <summary>Answered 304 from the response cache (If-None-Match / If-Modified-Since).</summary>
    [Event(17, Level = EventLevel.Informational, Keywords = Keywords.Cache)]
    public void CachedNotModified(ulong RequestId, ulong ConnectionId, string Url)
    {
        fixed (char* url = Url)
        {
            EventData* data = stackalloc EventData[3];
            Set(ref data[0], &RequestId);
            Set(ref data[1], &ConnectionId);
            Set(ref data[2], url, Url);
            WriteRequestEvent(17, RequestId, 3, data);
        }
    }

    /// <summary>A connection was accepted.</summary>
    [Event(21, Level = EventLevel.Informational, Keywords = Keywords.Connection)]
    public void ConnConnect(ulong ConnectionId, string LocalAddress, string RemoteAddress)
    {
        fixed (char* local = LocalAddress)
        fixed (char* remote = RemoteAddress)
        {
            EventData* data = stackalloc EventData[3];
            Set(ref data[0], &ConnectionId);
            Set(ref data[1], local, LocalAddress);
            Set(ref data[2], remote, RemoteAddress);
            WriteEventCore(21, 3, data);
        }
    }

    /// <summary>The connection's id was assigned (the id the app sees as IHttpConnectionFeature.ConnectionId).</summary>
    [Event(22, Level = EventLevel.Informational, Keywords = Keywords.Connection)]
    public void ConnIdAssgn(ulong ConnectionId, int LocalPort, int RemotePort)
    {
        EventData* data = stackalloc EventData[3];
        Set(ref data[0], &ConnectionId);
        Set(ref data[1], &LocalPort);
        Set(ref data[2], &RemotePort);
        WriteEventCore(22, 3, data);
    }

    /// <summary>The connection is closing: gracefully (FIN after the last response) or abortively.</summary>
    [Event(23, Level = EventLevel.Informational, Keywords = Keywords.Connection)]
    public void ConnClose(ulong ConnectionId, bool Abortive)
    {
        int abortive = Abortive ? 1 : 0; // EventSource writes bool as a 4-byte value
        EventData* data = stackalloc EventData[2];
        Set(ref data[0], &ConnectionId);
        Set(ref data[1], &abortive);
        WriteEventCore(23, 2, data);
    }

    /// <summary>The connection's resources were released.</summary>
    [Event(24, Level = EventLevel.Informational, Keywords = Keywords.Connection)]
    public void ConnCleanup(ulong ConnectionId)
    {
        EventData* data = stackalloc EventData[1];
        Set(ref data[0], &ConnectionId);
        WriteEventCore(24, 1, data);
    }

    /// <summary>A TLS connection's ClientHello began arriving (HTTP.sys's SslInitiateHandshake).</summary>
    [Event(70, Level = EventLevel.Informational, Keywords = Keywords.Ssl)]
    public void SslInitiateHandshake(ulong ConnectionId)
    {
        EventData* data = stackalloc EventData[1];
        Set(ref data[0], &ConnectionId);
        WriteEventCore(70, 1, data);
    }

    /// <summary>The handshake completed (HTTP.sys's SslHandshakeComplete), with what it settled and the binding that served it.</summary>
    [Event(71, Level = EventLevel.Informational, Keywords = Keywords.Ssl)]
    public void SslHandshakeComplete(ulong ConnectionId, string Protocol, string CipherSuite, string ServerName, string Binding) =>
        WriteEvent(71, ConnectionId, Protocol, CipherSuite, ServerName, Binding);

    /// <summary>A TLS connection ended without a handshake: why, on which endpoint, for which SNI name.</summary>
    [Event(72, Level = EventLevel.Warning, Keywords = Keywords.Ssl)]
    public void SslHandshakeFailed(ulong ConnectionId, string Reason, string LocalAddress, string ServerName) =>
        WriteEvent(72, ConnectionId, Reason, LocalAddress, ServerName);

    /// <summary>A request asked for the client's certificate after the handshake (HTTP.sys's SslInititateSslRcvClientCert, its spelling).</summary>
    [Event(73, Level = EventLevel.Informational, Keywords = Keywords.Ssl)]
    public void SslInititateSslRcvClientCert(ulong ConnectionId)
    {
        EventData* data = stackalloc EventData[1];
        Set(ref data[0], &ConnectionId);
        WriteEventCore(73, 1, data);
    }

    /// <summary>Asking for the client's certificate failed (HTTP.sys's SslRcvClientCertFailed), and why.</summary>
    [Event(74, Level = EventLevel.Warning, Keywords = Keywords.Ssl)]
    public void SslRcvClientCertFailed(ulong ConnectionId, string Reason) => WriteEvent(74, ConnectionId, Reason);

    /// <summary>The client was asked and sent no certificate (HTTP.sys's SslRcvdNoClientCert).</summary>
    [Event(75, Level = EventLevel.Informational, Keywords = Keywords.Ssl)]
    public void SslRcvdNoClientCert(ulong ConnectionId)
    {
        EventData* data = stackalloc EventData[1];
        Set(ref data[0], &ConnectionId);
        WriteEventCore(75, 1, data);
    }

    /// <summary>The client sent a certificate, in the handshake or when asked later: its subject.</summary>
    [Event(76, Level = EventLevel.Informational, Keywords = Keywords.Ssl)]
    public void SslRcvdClientCert(ulong ConnectionId, string Subject) => WriteEvent(76, ConnectionId, Subject);

    /// <summary>A response was stored in the cache.</summary>
    [Event(25, Level = EventLevel.Informational, Keywords = Keywords.Cache)]
    public void AddedCacheEntry(string Url, int StatusCode, string HttpVerb, int HeaderLength, long ContentLength, string ExpirationTime)
    {
        fixed (char* url = Url)
        fixed (char* verb = HttpVerb)
        fixed (char* expiration = ExpirationTime)
        {
            EventData* data = stackalloc EventData[6];
            Set(ref data[0], url, Url);
            Set(ref data[1], &StatusCode);
            Set(ref data[2], verb, HttpVerb);
            Set(ref data[3], &HeaderLength);
            Set(ref data[4], &ContentLength);
            Set(ref data[5], expiration, ExpirationTime);
            WriteEventCore(25, 6, data);
        }
    }

    /// <summary>A cache entry was removed (flush, invalidation, expiry, eviction).</summary>
    [Event(27, Level = EventLevel.Informational, Keywords = Keywords.Cache)]
    public void FlushedCache(string Url) => WriteEvent(27, Url);

    /// <summary>A URL prefix was registered to a URL group.</summary>
    [Event(31, Level = EventLevel.Informational, Keywords = Keywords.UrlGroup)]
    public void AddUrl(ulong UrlGroupId, string Url) => WriteIdAndText(31, UrlGroupId, Url);

    /// <summary>A URL prefix was released.</summary>
    [Event(32, Level = EventLevel.Informational, Keywords = Keywords.UrlGroup)]
    public void RemUrl(ulong UrlGroupId, string Url) => WriteIdAndText(32, UrlGroupId, Url);

    /// <summary>The driver refused a request: why, and the status it answered.</summary>
    [Event(52, Level = EventLevel.Warning, Keywords = Keywords.Request)]
    public void ParseRequestFailed(ulong RequestId, ulong ConnectionId, string Reason, int StatusCode)
    {
        fixed (char* reason = Reason)
        {
            EventData* data = stackalloc EventData[4];
            Set(ref data[0], &RequestId);
            Set(ref data[1], &ConnectionId);
            Set(ref data[2], reason, Reason);
            Set(ref data[3], &StatusCode);
            WriteRequestEvent(52, RequestId, 4, data);
        }
    }

    /// <summary>A connection's timer expired (Timer_HeaderWait, Timer_IdleConnection, ...).</summary>
    [Event(53, Level = EventLevel.Warning, Keywords = Keywords.Timeout | Keywords.Connection)]
    public void ConnTimedOut(ulong ConnectionId, string TimerType) => WriteIdAndText(53, ConnectionId, TimerType);

    /// <summary>A request queue turned a request away: why, which queue, and the status (0: a reset).</summary>
    [Event(64, Level = EventLevel.Warning, Keywords = Keywords.RequestQueue)]
    public void RequestRejected(ulong RequestId, ulong ConnectionId, string Reason, string RequestQueueName, int StatusCode)
    {
        fixed (char* reason = Reason)
        fixed (char* queue = RequestQueueName)
        {
            EventData* data = stackalloc EventData[5];
            Set(ref data[0], &RequestId);
            Set(ref data[1], &ConnectionId);
            Set(ref data[2], reason, Reason);
            Set(ref data[3], queue, RequestQueueName);
            Set(ref data[4], &StatusCode);
            WriteRequestEvent(64, RequestId, 5, data);
        }
    }

    /// <summary>The HTTP.sys name of a timer, as ConnTimedOut reports it.</summary>
    [NonEvent]
    public static string TimerName(Connections.TimerKind kind) => kind switch
    {
        Connections.TimerKind.IdleConnection => "Timer_IdleConnection",
        Connections.TimerKind.HeaderWait => "Timer_HeaderWait",
        Connections.TimerKind.EntityBody => "Timer_EntityBody",
        Connections.TimerKind.DrainEntityBody => "Timer_DrainEntityBody",
        Connections.TimerKind.MinSendRate => "Timer_MinSendRate",
        Connections.TimerKind.MinRequestBodyRate => "Timer_MinRequestBodyRate",
        _ => "Timer_None",
    };

    [NonEvent]
    private void WriteIdAndText(int eventId, ulong id, string text)
    {
        fixed (char* chars = text)
        {
            EventData* data = stackalloc EventData[2];
            Set(ref data[0], &id);
            Set(ref data[1], chars, text);
            WriteEventCore(eventId, 2, data);
        }
    }

    /// <summary>Writes with the request's activity id as the thread's current one, then puts the old one back.</summary>
    [NonEvent]
    private void WriteRequestEvent(int eventId, ulong requestId, int count, EventData* data)
    {
        SetCurrentThreadActivityId(RequestActivityId(requestId), out Guid previous);
        WriteEventCore(eventId, count, data);
        SetCurrentThreadActivityId(previous);
    }

    [NonEvent]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set<T>(ref EventData data, T* value)
        where T : unmanaged
    {
        data.DataPointer = (nint)value;
        data.Size = sizeof(T);
    }

    [NonEvent]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(ref EventData data, char* value, string text)
    {
        data.DataPointer = (nint)value;
        data.Size = (text.Length + 1) * sizeof(char);
    }
}
