namespace HttpSysLite.Transport.Buffers;

/// <summary>
/// Gives the memory of many closed connections back to the operating system (issue 22: ten minutes
/// after 100,000 connections close, RSS is near where it started). The pools drop their spare blocks
/// and contexts to the GC within two trims, but a server with no traffic allocates nothing, so no GC
/// runs to free them, and a GC that runs keeps the emptied heap committed for the next burst.
/// Measured at 17,800 idle connections closed: RSS stayed at 194 MiB (73 before they opened) with
/// 1.6 MB of live objects; one full GC brought it to 104 MiB. So once the connections have fallen far
/// below their peak and stopped falling for <see cref="QuietTrims"/> trim (the pools have emptied by
/// then), this asks for one aggressive collection, which compacts and decommits what it frees.
/// The same holds for connections that stay open but go idle and give their pipes and loops up
/// (docs/design.md section 12): what they dropped is garbage no GC comes for. So the count this
/// watches is the connections that hold that memory, open and not suspended; its peak is seen at
/// every heartbeat, as a burst can open and go idle between two trims.
/// Kestrel does nothing of the kind; HTTP.sys frees a closed connection's memory in the kernel.
/// Called from the heartbeat's thread only.
/// </summary>
internal sealed class MemoryRelease
{
    /// <summary>
    /// The fewest closed connections worth a collection: their garbage is some megabytes (a few KiB
    /// each, more over TLS), against one blocking collection of what is still live.
    /// </summary>
    public const int MinimumDrop = 1000;

    /// <summary>
    /// Trims in a row with neither more connections than the last nor a burst fewer: the drop is over.
    /// One is enough for the pools, which drop at the second trim after a close what the first kept.
    /// </summary>
    public const int QuietTrims = 1;

    private readonly Action _collect;
    private Drop _open;
    private Drop _holding;

    /// <param name="collect">The collection to run (tests count it); by default an aggressive, compacting, blocking full GC.</param>
    public MemoryRelease(Action? collect = null) => _collect = collect ?? Collect;

    /// <summary>Called at each heartbeat with the connections holding memory (open, not suspended): their peak.</summary>
    public void Observe(int holding) => _holding.See(holding);

    /// <summary>
    /// Called after each trim with the open connections and those of them holding memory; true when it
    /// asked for a collection. Either count falling far is reason enough: connections that close (each
    /// resumed first, if it was suspended, so the close makes garbage of its own), or connections that
    /// stay open and go idle.
    /// </summary>
    public bool OnTrim(int open, int holding)
    {
        bool closed = _open.Fell(open);
        bool idled = _holding.Fell(holding); // both read at every trim: each keeps its own quiet count
        if (!closed && !idled)
        {
            return false;
        }
        _collect();
        return true;
    }

    /// <summary>One count's peak and quiet trims.</summary>
    private struct Drop
    {
        private int _peak;
        private int _last;
        private int _quiet;

        public void See(int count) => _peak = Math.Max(_peak, count);

        /// <summary>True when the count has fallen far from its peak and stopped falling (then the peak starts over).</summary>
        public bool Fell(int count)
        {
            _quiet = count <= _last && _last - count < MinimumDrop ? _quiet + 1 : 0;
            _last = count;
            See(count);
            // Far below the peak in count and in share: 1,000 closed of 100,000 open is not worth a pause.
            if (_quiet < QuietTrims || _peak - count < MinimumDrop || count > _peak / 2)
            {
                return false;
            }
            _peak = count;
            return true;
        }
    }

    private static void Collect() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}
