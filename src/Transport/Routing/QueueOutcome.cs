namespace HttpSysLite.Transport.Routing;

/// <summary>What became of a request that had to wait for its queue's app.</summary>
public enum QueueOutcome
{
    /// <summary>The app took it.</summary>
    Granted,
    /// <summary>RequestQueueLimit requests were already waiting.</summary>
    QueueFull,
    /// <summary>It waited longer than the queue timeout (HTTP.sys's Timer_Queue).</summary>
    TimedOut,
    /// <summary>No app consumes the queue any more.</summary>
    NoConsumer,
}
