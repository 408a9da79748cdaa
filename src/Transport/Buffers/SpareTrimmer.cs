namespace HttpSysLite.Transport.Buffers;

/// <summary>
/// How many of a pool's spare items went unused since the last trim: the fewest that were spare at
/// any moment in between. Those were never needed, so a trim can drop them and the pool follows the
/// load down after a burst (issue 22: memory goes back once connections close). A heuristic: the
/// minimum is tracked without a lock, and a lost update only makes one trim drop fewer or more.
/// </summary>
internal sealed class SpareTrimmer
{
    private int _fewestSpare = int.MaxValue;

    /// <summary>An item was taken and <paramref name="spareNow"/> are left (any thread).</summary>
    public void OnTaken(int spareNow)
    {
        if (spareNow < Volatile.Read(ref _fewestSpare))
        {
            Volatile.Write(ref _fewestSpare, spareNow);
        }
    }

    /// <summary>How many to drop now (none was needed since the last call), and a new period begins.</summary>
    public int TakeSurplus(int spareNow) => Math.Max(0, Math.Min(Interlocked.Exchange(ref _fewestSpare, spareNow), spareNow));
}
