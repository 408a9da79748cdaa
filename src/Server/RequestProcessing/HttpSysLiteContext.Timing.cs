using System.Diagnostics;
using Microsoft.AspNetCore.Server.HttpSys;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// HttpSys's timing and request-info features, filled from what the driver recorded (RequestTimestamps).
/// Timestamps are Stopwatch ticks, as HttpSys's are QueryPerformanceCounter ticks. Over TLS the
/// handshake is leg 1; the certificate-load, attribute and client-certificate steps, HTTP/2, HTTP/3,
/// inspection and delegation do not happen in this driver, so they read as absent.
/// </summary>
internal partial class HttpSysLiteContext
{
    private static readonly int s_timingTypes = Enum.GetValues<HttpSysRequestTimingType>().Length;
    private static readonly IReadOnlyDictionary<int, ReadOnlyMemory<byte>> s_noRequestInfo = new Dictionary<int, ReadOnlyMemory<byte>>();

    private long[]? _timingTable;

    private long TimestampOf(HttpSysRequestTimingType type)
    {
        ref readonly var stamps = ref Request.Timestamps;
        return type switch
        {
            HttpSysRequestTimingType.ConnectionStart => stamps.ConnectionStart,
            HttpSysRequestTimingType.DataStart or HttpSysRequestTimingType.RequestHeaderParseStart => stamps.DataStart,
            HttpSysRequestTimingType.RequestHeaderParseEnd or HttpSysRequestTimingType.RequestRoutingStart => stamps.HeaderParseEnd,
            HttpSysRequestTimingType.RequestRoutingEnd or HttpSysRequestTimingType.RequestQueuedForIO => stamps.RoutingEnd,
            HttpSysRequestTimingType.RequestDeliveredForIO => stamps.DeliveredForIO,
            // The handshake, as one leg: from the ClientHello's first byte to the handshake's end.
            HttpSysRequestTimingType.TlsHandshakeLeg1Start => Request.Tls?.HandshakeStart ?? 0,
            HttpSysRequestTimingType.TlsHandshakeLeg1End => Request.Tls?.HandshakeEnd ?? 0,
            _ => 0,
        };
    }

    ReadOnlySpan<long> IHttpSysRequestTimingFeature.Timestamps
    {
        get
        {
            // Made on first use only, once per connection: most apps never ask.
            var table = _timingTable ??= new long[s_timingTypes];
            for (int i = 0; i < table.Length; i++)
            {
                table[i] = TimestampOf((HttpSysRequestTimingType)i);
            }
            return table;
        }
    }

    bool IHttpSysRequestTimingFeature.TryGetTimestamp(HttpSysRequestTimingType timestampType, out long timestamp)
    {
        timestamp = TimestampOf(timestampType);
        return timestamp != 0;
    }

    bool IHttpSysRequestTimingFeature.TryGetElapsedTime(HttpSysRequestTimingType startingTimestampType, HttpSysRequestTimingType endingTimestampType, out TimeSpan elapsed)
    {
        long start = TimestampOf(startingTimestampType);
        long end = TimestampOf(endingTimestampType);
        if (start == 0 || end == 0)
        {
            elapsed = default;
            return false;
        }
        elapsed = Stopwatch.GetElapsedTime(start, end);
        return true;
    }

    /// <summary>HTTP.sys's request info (authentication, TLS, QoS records): none of them exist here yet.</summary>
    IReadOnlyDictionary<int, ReadOnlyMemory<byte>> IHttpSysRequestInfoFeature.RequestInfo => s_noRequestInfo;
}
