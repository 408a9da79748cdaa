using HttpSysLite.Transport;

namespace HttpSysLite;

/// <summary>
/// The HTTP.sys timers, with HTTP.sys's defaults (HttpSysOptions.Timeouts). All run off the driver's one
/// heartbeat, so they fire up to a quarter of a second late. The connection-level ones (HeaderWait,
/// IdleConnection, EntityBody, DrainEntityBody, MinSendBytesPerSecond) belong to the listening port and
/// come from the server that opened it.
/// </summary>
public sealed class TimeoutManager
{
    private TimeSpan _requestQueue = Transport.Routing.RequestQueue.DefaultTimeout;
    private TimeSpan _headerWait = ConnectionSettings.DefaultTimeout;
    private TimeSpan _idleConnection = ConnectionSettings.DefaultTimeout;
    private TimeSpan _entityBody = ConnectionSettings.DefaultTimeout;
    private TimeSpan _drainEntityBody = ConnectionSettings.DefaultTimeout;
    private long _minSendBytesPerSecond = ConnectionSettings.DefaultMinSendBytesPerSecond;

    /// <summary>How long a request may wait in the queue for the app (HTTP.sys RequestQueue timer, default 2 minutes). Beyond: 503 per Http503Verbosity.</summary>
    public TimeSpan RequestQueue
    {
        get => _requestQueue;
        set => _requestQueue = Positive(value, nameof(RequestQueue));
    }

    /// <summary>From the first byte of a request head until the head is complete (default 2 minutes). Beyond: 408 and close.</summary>
    public TimeSpan HeaderWait
    {
        get => _headerWait;
        set => _headerWait = Positive(value, nameof(HeaderWait));
    }

    /// <summary>How long a keep-alive connection may wait for its next request (default 2 minutes). Beyond: closed.</summary>
    public TimeSpan IdleConnection
    {
        get => _idleConnection;
        set => _idleConnection = Positive(value, nameof(IdleConnection));
    }

    /// <summary>How long a request body read may wait for more bytes (default 2 minutes). Beyond: the read fails with 408 and the connection closes.</summary>
    public TimeSpan EntityBody
    {
        get => _entityBody;
        set => _entityBody = Positive(value, nameof(EntityBody));
    }

    /// <summary>How long skipping a body the app left unread may take on a keep-alive connection (default 2 minutes). Beyond: closed.</summary>
    public TimeSpan DrainEntityBody
    {
        get => _drainEntityBody;
        set => _drainEntityBody = Positive(value, nameof(DrainEntityBody));
    }

    /// <summary>
    /// The slowest a client may take the response, in bytes per second (default 150; 0 turns the check
    /// off). A send the client holds up longer than its size allows at this rate, and at least 5 seconds,
    /// cuts the connection off.
    /// </summary>
    public long MinSendBytesPerSecond
    {
        get => _minSendBytesPerSecond;
        set => _minSendBytesPerSecond = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Timeouts.MinSendBytesPerSecond must be 0 (off) or positive; the HTTP.sys default is 150.");
    }

    private static TimeSpan Positive(TimeSpan value, string name) => value > TimeSpan.Zero
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"Timeouts.{name} must be positive; the HTTP.sys default is 2 minutes.");
}
