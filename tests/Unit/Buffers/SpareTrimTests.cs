using HttpSysLite.Transport.Buffers;

namespace HttpSysLite.Tests.Unit.Buffers;

/// <summary>
/// Issue 22: the block pool gives memory back. A trim drops the spare blocks that no rent needed since
/// the last trim, and keeps those the load used.
/// </summary>
public sealed class SpareTrimTests
{
    [Fact]
    public void ATrimDropsWhatWentUnusedAndKeepsWhatTheLoadUsed()
    {
        using var pool = new BlockMemoryPool();
        var burst = new List<System.Buffers.IMemoryOwner<byte>>();
        for (int i = 0; i < 10; i++)
        {
            burst.Add(pool.Rent());
        }
        burst.ForEach(b => b.Dispose());
        Assert.Equal(10, pool.SpareCount);

        // The load now needs 4 at a time: 6 stay spare throughout.
        var load = new List<System.Buffers.IMemoryOwner<byte>>();
        for (int i = 0; i < 4; i++)
        {
            load.Add(pool.Rent());
        }
        load.ForEach(b => b.Dispose());
        pool.Trim();
        Assert.Equal(4, pool.SpareCount);

        // Nothing rents until the next trim: the rest goes too.
        pool.Trim();
        Assert.Equal(0, pool.SpareCount);
    }

    [Fact]
    public void TheTrimmerCountsTheFewestSpareOfAPeriod()
    {
        var trimmer = new SpareTrimmer();
        Assert.Equal(5, trimmer.TakeSurplus(5)); // nothing taken: all of it was surplus
        trimmer.OnTaken(3);
        trimmer.OnTaken(1);
        trimmer.OnTaken(2);
        Assert.Equal(1, trimmer.TakeSurplus(4));
        Assert.Equal(0, trimmer.TakeSurplus(0));
    }
}
