using HttpSysLite.Transport.Buffers;

namespace HttpSysLite.Tests.Unit.Buffers;

/// <summary>
/// Issue 22: memory goes back after many connections close. The release is a table: open connections
/// at each trim, and the trims at which a collection is asked for.
/// </summary>
public sealed class MemoryReleaseTests
{
    public static TheoryData<string, int[], int[]> Cases => new()
    {
        // name, open connections at each trim, the trims (0-based) that collect
        { "a burst closes: collect at the first trim after the one that saw it go", [0, 10_000, 0, 0, 0, 0], [3] },
        { "no burst: never", [0, 50, 80, 20, 0, 0, 0], [] },
        { "fewer than MinimumDrop closed: never", [0, 900, 0, 0, 0], [] },
        { "half still open: not worth a pause", [0, 10_000, 6_000, 6_000, 6_000], [] },
        { "down to under half: collect", [0, 10_000, 4_000, 4_000, 4_000], [3] },
        { "still falling: wait until it stops", [0, 10_000, 8_000, 5_000, 2_000, 0, 0, 0], [6] },
        { "a rise starts the quiet over", [0, 10_000, 0, 100, 0, 0, 0], [4] },
        { "a second burst after the first release", [0, 5_000, 0, 0, 0, 5_000, 0, 0, 0], [3, 7] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CollectsOnceAfterABurstHasClosed(string name, int[] open, int[] collectAt)
    {
        var collected = new List<int>();
        int trim = 0;
        var release = new MemoryRelease(() => collected.Add(trim));
        for (; trim < open.Length; trim++)
        {
            Assert.Equal(release.OnTrim(open[trim], open[trim]), collected.Contains(trim)); // all of them running
        }
        Assert.True(collectAt.SequenceEqual(collected), $"{name}: collected at [{string.Join(", ", collected)}]");
    }

    [Fact]
    public void ABurstThatGoesIdleIsCollectedAndAgainWhenItCloses()
    {
        // 9,000 connections open and are suspended idle between two trims: only the heartbeats saw them
        // hold memory. The next trim finds none holding any and none since the trim before: collect.
        // (The open count's first sight of them is a rise, not a fall.)
        int collections = 0;
        var release = new MemoryRelease(() => collections++);
        Assert.False(release.OnTrim(0, 0));
        foreach (int holding in new[] { 2_000, 6_000, 9_000, 3_000, 0 })
        {
            release.Observe(holding);
        }
        Assert.True(release.OnTrim(9_000, 0));
        Assert.Equal(1, collections);
        release.Observe(0);
        Assert.False(release.OnTrim(9_000, 0)); // once

        // Then they close: each is resumed to close, which makes garbage again; the open count's fall
        // collects it, at the trim after the one that saw them go.
        Assert.False(release.OnTrim(0, 0));
        Assert.True(release.OnTrim(0, 0));
        Assert.Equal(2, collections);
    }
}
