namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A descriptor an epoll loop watches (a connection's socket, or a listening socket) and what the loop
/// calls with its events, on the loop thread. An interface, so a connection can be an epoll
/// registration and a <see cref="SocketConnection"/> at once.
/// </summary>
internal interface IEpollRegistration
{
    /// <summary>The registration's slot in its loop (-1 when not registered).</summary>
    int EpollSlot { get; set; }

    /// <summary>Tells this registration's events from those of an earlier one in the same slot.</summary>
    uint EpollToken { get; set; }

    /// <summary>Handles the events epoll reported; runs on the loop thread and must not block.</summary>
    void OnEpollEvent(uint events);

    /// <summary>
    /// <see cref="OnEpollEvent"/> threw: a bug, not a network event. The registration cannot be trusted
    /// any more; the loop's others can, so only this one ends.
    /// </summary>
    void OnEpollEventFailed(Exception exception);
}
