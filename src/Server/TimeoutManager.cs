namespace HttpSysLite;

/// <summary>The HTTP.sys timers, with HTTP.sys's defaults (HttpSysOptions.Timeouts).</summary>
public sealed class TimeoutManager
{
    private TimeSpan _requestQueue = Transport.Routing.RequestQueue.DefaultTimeout;

    /// <summary>How long a request may wait in the queue for the app (HTTP.sys RequestQueue timer, default 2 minutes). Beyond: 503 per Http503Verbosity.</summary>
    public TimeSpan RequestQueue
    {
        get => _requestQueue;
        set => _requestQueue = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Timeouts.RequestQueue must be positive.");
    }
}
