using System.Collections.Concurrent;
using HttpSysLite.Transport.Buffers;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The driver's spare request contexts. A connection takes one when a request's first bytes arrive
/// and gives it back when it goes idle again, so an idle connection holds no request state: a
/// context and what it carries (its header arrays and strings, the server's per-request graph in
/// <see cref="RequestContext.ServerState"/>, the header writer's remembered fields) is about 2.7 KiB,
/// and most of 10,000 keep-alive connections are between requests at any moment (bench/README.md,
/// "Idle connections"). HTTP.sys does the same with its request buffers: a connection gets one from a
/// lookaside list when data arrives. Owned by the driver; safe from any thread.
/// </summary>
internal sealed class RequestContextPool
{
    /// <summary>
    /// Contexts kept at most: more than the requests that run at once on a busy server, so the steady
    /// state allocates nothing; a burst beyond it goes back to the GC as it ends.
    /// </summary>
    public const int MaxRetained = 1024;

    private readonly ConcurrentQueue<RequestContext> _contexts = new();
    private readonly SpareTrimmer _trimmer = new();
    private int _retained;

    /// <summary>Contexts waiting to be taken (for tests and the bench's reading).</summary>
    public int Count => Volatile.Read(ref _retained);

    /// <summary>A context for a request on <paramref name="connection"/>, reused when one is spare.</summary>
    public RequestContext Rent(HttpConnection connection)
    {
        if (_contexts.TryDequeue(out var context))
        {
            _trimmer.OnTaken(Interlocked.Decrement(ref _retained));
        }
        else
        {
            context = new RequestContext();
        }
        context.Attach(connection);
        return context;
    }

    /// <summary>Takes back a context whose request is over; nothing may use it afterwards.</summary>
    public void Return(RequestContext context)
    {
        context.Detach();
        if (Interlocked.Increment(ref _retained) > MaxRetained)
        {
            Interlocked.Decrement(ref _retained);
            return; // dropped: the GC frees it
        }
        _contexts.Enqueue(context);
    }

    /// <summary>
    /// Drops the contexts no request needed since the last trim (the fewest that were spare meanwhile),
    /// so after a burst the pool shrinks to what the load uses. Called by the heartbeat's thread.
    /// </summary>
    public void Trim()
    {
        int surplus = _trimmer.TakeSurplus(Volatile.Read(ref _retained));
        for (int i = 0; i < surplus && _contexts.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _retained);
        }
    }
}
