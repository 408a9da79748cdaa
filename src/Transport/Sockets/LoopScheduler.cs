using System.IO.Pipelines;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A pipe scheduler that runs work inline when it is scheduled from an I/O loop thread (and inline
/// work is allowed), else hands it to <paramref name="fallback"/>. For the input pipe that runs the HTTP
/// connection's head parsing in the read that brought the bytes, while the app's own body reads still
/// resume on the thread pool; for the output pipe it sends what the loop itself wrote (a cache hit, an
/// error) without a thread hop.
/// </summary>
internal sealed class LoopScheduler(PipeScheduler fallback, bool allowInline) : PipeScheduler
{
    private volatile bool _allowInline = allowInline;

    /// <summary>Whether work scheduled from a loop thread may run there now.</summary>
    public bool AllowInline
    {
        get => _allowInline;
        set => _allowInline = value;
    }

    public override void Schedule(Action<object?> action, object? state)
    {
        if (_allowInline && IoLoopThread.IsCurrent)
        {
            action(state);
        }
        else
        {
            fallback.Schedule(action, state);
        }
    }
}
