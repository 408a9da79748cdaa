using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The payload of <see cref="FrameType.OpenQueue"/> (JSON: it is sent once per queue, never per
/// request): the queue an app process opens or attaches to, and, for the one that creates it, its
/// settings and prefixes, as an in-process server would apply them.
/// </summary>
public sealed record OpenQueueRequest
{
    /// <summary>The queue's name; null for an anonymous queue of this process alone.</summary>
    public string? Name { get; init; }

    /// <summary>HTTP.sys's Create, Attach or CreateOrAttach.</summary>
    public RequestQueueMode Mode { get; init; }

    /// <summary>Who the group belongs to, for error messages ("server 'orders'").</summary>
    public string Owner { get; init; } = "an app process";

    /// <summary>The prefixes to register when this call creates the queue.</summary>
    public string[] Prefixes { get; init; } = [];

    /// <summary>The connection settings of the prefixes' ports.</summary>
    public ConnectionSettings Settings { get; init; } = ConnectionSettings.Default;

    /// <summary>The queue's limit of waiting requests.</summary>
    public int QueueLimit { get; init; } = RequestQueue.DefaultLimit;

    /// <summary>How long a request may wait in the queue.</summary>
    public TimeSpan QueueTimeout { get; init; } = RequestQueue.DefaultTimeout;

    /// <summary>How a request the queue cannot take is answered.</summary>
    public ServiceUnavailableMode RejectionMode { get; init; } = ServiceUnavailableMode.Reset;

    /// <summary>The queue's concurrency limit, or null.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>Who may attach to the queue this call creates, as SDDL (<see cref="QueueAccessList"/>); null admits every process.</summary>
    public string? SecurityDescriptor { get; init; }
}
