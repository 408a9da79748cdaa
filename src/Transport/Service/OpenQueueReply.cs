namespace HttpSysLite.Transport.Service;

/// <summary>The payload of <see cref="FrameType.QueueOpened"/> (JSON): the outcome of an <see cref="OpenQueueRequest"/>.</summary>
public sealed record OpenQueueReply
{
    /// <summary>Why the queue could not be opened (the driver's exception message, which names the cause), or null.</summary>
    public string? Error { get; init; }

    /// <summary>True when this request created the queue (and registered its prefixes).</summary>
    public bool Created { get; init; }

    /// <summary>The prefixes registered, with the ports they were given (port 0 resolved).</summary>
    public string[] Prefixes { get; init; } = [];
}
