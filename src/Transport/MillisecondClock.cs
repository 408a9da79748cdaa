namespace HttpSysLite.Transport;

/// <summary>
/// The driver's monotonic clock in whole milliseconds, read from a <see cref="TimeProvider"/> so tests
/// can run every timeout on a fake clock. Deadlines are plain longs compared with <see cref="Now"/>:
/// arming one is a clock read and a field write.
/// </summary>
internal sealed class MillisecondClock
{
    private readonly long _ticksPerMillisecond;
    private readonly bool _system;

    /// <summary>Reads <paramref name="time"/> (<see cref="TimeProvider.System"/> when null).</summary>
    public MillisecondClock(TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        _system = ReferenceEquals(Time, TimeProvider.System);
        long frequency = Time.TimestampFrequency;
        // Stopwatch (10^9 on Linux) and TimeSpan ticks (10^7, FakeTimeProvider) divide evenly: one division.
        _ticksPerMillisecond = frequency % 1000 == 0 ? frequency / 1000 : 0;
    }

    /// <summary>The system clock.</summary>
    public static MillisecondClock System { get; } = new(TimeProvider.System);

    /// <summary>The time source behind the clock (timers are created from it too).</summary>
    public TimeProvider Time { get; }

    /// <summary>Milliseconds since an arbitrary start; only differences mean anything.</summary>
    public long Now
    {
        get
        {
            if (_system)
            {
                return Environment.TickCount64; // the coarse monotonic clock: cheaper than a timestamp, and milliseconds already
            }
            long timestamp = Time.GetTimestamp();
            return _ticksPerMillisecond != 0
                ? timestamp / _ticksPerMillisecond
                : (long)((Int128)timestamp * 1000 / Time.TimestampFrequency);
        }
    }

    /// <summary>The deadline <paramref name="timeout"/> from now; a year or more never fires.</summary>
    public long DeadlineAfter(TimeSpan timeout) =>
        timeout >= TimeSpan.FromDays(365) ? Connections.ConnectionTimeouts.Never : Now + (long)timeout.TotalMilliseconds;
}
