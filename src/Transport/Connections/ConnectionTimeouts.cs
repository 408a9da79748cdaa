namespace HttpSysLite.Transport.Connections;

/// <summary>
/// Every deadline one connection runs, in one object the driver's heartbeat checks (HTTP.sys's
/// per-connection timer block). Each slot has one owner: the request timer belongs to the HTTP
/// connection loop (HeaderWait, IdleConnection, EntityBody, DrainEntityBody, one at a time); the send
/// deadline to the transport's send loop; the acknowledgement deadline to the connection's
/// <see cref="SendProgress"/> (armed by whichever thread finds the waiting write still held up, cleared
/// when it is released); the minimum request-body rate to the request's body reader; the linger
/// deadline to the transport's close. The heartbeat reads them all and fires each at most once, never
/// early: a deadline is the clock read when it was armed plus its timeout.
/// </summary>
internal sealed class ConnectionTimeouts
{
    /// <summary>A deadline that never passes.</summary>
    public const long Never = long.MaxValue;

    private readonly MillisecondClock _clock;
    private long _request = Never;
    private TimerKind _requestKind;
    private long _send = Never;
    private long _acknowledge = Never;
    private long _linger = Never;
    private long _bodyRate = Never;

    public ConnectionTimeouts(MillisecondClock clock) => _clock = clock;

    /// <summary>The clock's reading, in milliseconds.</summary>
    public long Now => _clock.Now;

    /// <summary>The request timer's deadline (clock milliseconds), or <see cref="Never"/>.</summary>
    public long RequestDeadline => Volatile.Read(ref _request);

    /// <summary>The request timer armed now, or <see cref="TimerKind.None"/>.</summary>
    public TimerKind RequestTimer => _requestKind;

    /// <summary>Arms the request timer (the connection loop's thread).</summary>
    public void StartRequestTimer(TimerKind kind, TimeSpan timeout)
    {
        _requestKind = kind;
        // The clock is read here, not taken from the heartbeat's last tick: a tick the thread pool delayed
        // would leave that value stale and fire the deadline early.
        Volatile.Write(ref _request, _clock.DeadlineAfter(timeout));
    }

    /// <summary>Arms <paramref name="kind"/> unless another request timer runs (a drain's outer timer wins over a read's).</summary>
    public bool TryStartRequestTimer(TimerKind kind, TimeSpan timeout)
    {
        if (Volatile.Read(ref _request) != Never)
        {
            return false;
        }
        StartRequestTimer(kind, timeout);
        return true;
    }

    public void StopRequestTimer()
    {
        Volatile.Write(ref _request, Never);
        _requestKind = TimerKind.None;
    }

    /// <summary>
    /// The request timer that passed its deadline by <paramref name="now"/>, taken so it fires once
    /// (the heartbeat's thread); <see cref="TimerKind.None"/> if none did.
    /// </summary>
    public TimerKind TakeExpiredRequestTimer(long now)
    {
        long deadline = Volatile.Read(ref _request);
        if (now >= deadline && Interlocked.CompareExchange(ref _request, Never, deadline) == deadline)
        {
            return _requestKind;
        }
        return TimerKind.None;
    }

    /// <summary>
    /// Arms the MinSendBytesPerSecond deadline for a send of <paramref name="length"/> bytes that the
    /// socket could not take at once: the time that rate allows for it, and never less than the grace
    /// period (HTTP.sys's MinSendRate timer). A rate of 0 turns the check off.
    /// </summary>
    public void StartSendTimer(long length, long minSendBytesPerSecond) =>
        Volatile.Write(ref _send, SendDeadline(length, minSendBytesPerSecond));

    public void StopSendTimer() => Volatile.Write(ref _send, Never);

    /// <summary>As <see cref="StartSendTimer"/>, for an unbuffered write that waits on the client's acknowledgements; kept while armed.</summary>
    public void StartAcknowledgeTimer(long outstanding, long minSendBytesPerSecond)
    {
        if (Volatile.Read(ref _acknowledge) == Never)
        {
            // A full fence: the caller reads the write's state next, and must not read it before this lands.
            Interlocked.Exchange(ref _acknowledge, SendDeadline(outstanding, minSendBytesPerSecond));
        }
    }

    public void StopAcknowledgeTimer() => Volatile.Write(ref _acknowledge, Never);

    /// <summary>True when a send, or a write waiting on acknowledgements, has waited on the client past what the rate allows.</summary>
    public bool IsSendStalled(long now) => now >= Volatile.Read(ref _send) || now >= Volatile.Read(ref _acknowledge);

    /// <summary>Arms the minimum request-body rate's deadline for a body read that waits (the app's read, on the connection's request).</summary>
    public void StartBodyRateTimer(long deadline) => Volatile.Write(ref _bodyRate, deadline);

    public void StopBodyRateTimer() => Volatile.Write(ref _bodyRate, Never);

    /// <summary>True once, when a body read has waited past what the minimum request-body rate allows (the heartbeat's thread).</summary>
    public bool TakeExpiredBodyRate(long now)
    {
        long deadline = Volatile.Read(ref _bodyRate);
        return now >= deadline && Interlocked.CompareExchange(ref _bodyRate, Never, deadline) == deadline;
    }

    /// <summary>Arms the wait for the client's FIN after ours (a lingering close).</summary>
    public void StartLinger(TimeSpan timeout) => Volatile.Write(ref _linger, _clock.DeadlineAfter(timeout));

    public bool IsLingerExpired(long now) => now >= Volatile.Read(ref _linger);

    private long SendDeadline(long length, long minSendBytesPerSecond)
    {
        if (minSendBytesPerSecond <= 0)
        {
            return Never;
        }
        long allowed = Math.Max((long)ConnectionSettings.SendGracePeriod.TotalMilliseconds, length * 1000 / minSendBytesPerSecond);
        return _clock.Now + allowed;
    }
}
