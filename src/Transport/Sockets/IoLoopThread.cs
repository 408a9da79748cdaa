namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// Marks the thread that is running an I/O loop right now: an epoll loop's thread, always, or a TLS
/// connection's receive loop while it hands decrypted bytes to the HTTP connection. Work scheduled from
/// it may run inline (<see cref="LoopScheduler"/>), so a cache hit or a rejection is answered where
/// its bytes were read; code here must not block, and the app never runs here.
/// </summary>
internal static class IoLoopThread
{
    [ThreadStatic]
    private static bool t_current;

    /// <summary>True on a thread running an I/O loop.</summary>
    public static bool IsCurrent => t_current;

    /// <summary>The thread runs an I/O loop from now on; returns what it was before, for <see cref="Restore"/>.</summary>
    public static bool Enter()
    {
        bool was = t_current;
        t_current = true;
        return was;
    }

    /// <summary>Back to what <see cref="Enter"/> returned (an epoll thread stays one).</summary>
    public static void Restore(bool was) => t_current = was;
}
