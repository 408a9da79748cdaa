using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>
/// The heartbeat's table of open connections (issue 22): a running connection is looked at every
/// tick, a suspended one only once its deadline has come, and slots are reused without losing what
/// another connection wrote.
/// </summary>
public sealed class ConnectionTableTests
{
    private sealed class Item(int n)
    {
        public int N { get; } = n;
    }

    private static List<int> Visited(ConnectionTable<Item> table, long now, out int running)
    {
        var seen = new List<int>();
        running = table.Walk(now, seen, static (item, list) => list.Add(item.N));
        return seen;
    }

    [Fact]
    public void ARunningConnectionIsVisitedAtEveryTickAndASuspendedOneOnlyWhenDue()
    {
        var table = new ConnectionTable<Item>();
        int a = table.Add(new Item(1));
        int b = table.Add(new Item(2));
        Assert.Equal([1, 2], Visited(table, 100, out int running));
        Assert.Equal(2, running);

        table.SetDue(b, 5_000); // suspended, its IdleConnection deadline at 5 s
        Assert.Equal([1], Visited(table, 4_999, out running));
        Assert.Equal(1, running);
        Assert.Equal([1, 2], Visited(table, 5_000, out running));
        Assert.Equal(1, running); // due, but still suspended: not one that holds pipes

        table.SetDue(b, ConnectionTable<Item>.Always); // resumed
        table.SetDue(a, ConnectionTimeouts.Never); // suspended with no deadline at all: never visited
        Assert.Equal([2], Visited(table, long.MaxValue - 1, out running));
        Assert.Equal(1, running);
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void AFreedSlotIsReusedRunningAndIsNeverVisitedWhileEmpty()
    {
        var table = new ConnectionTable<Item>();
        int a = table.Add(new Item(1));
        table.Add(new Item(2));
        table.SetDue(a, 10);
        table.Remove(a);
        Assert.Equal(1, table.Count);
        Assert.Equal([2], Visited(table, 1_000, out _));
        Assert.Equal([2], table.Select(i => i.N));

        int c = table.Add(new Item(3));
        Assert.Equal(a, c);
        Assert.Equal([3, 2], Visited(table, 0, out int running)); // running again, whatever the slot's last due
        Assert.Equal(2, running);
    }

    [Fact]
    public void ManyConnectionsSpanChunksAndKeepTheirDues()
    {
        var table = new ConnectionTable<Item>();
        var slots = new int[5_000];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = table.Add(new Item(i));
            if (i % 2 == 1)
            {
                table.SetDue(slots[i], 1_000 + i); // written while later chunks are still being added
            }
        }
        Assert.Equal(5_000, table.Count);
        var seen = Visited(table, 0, out int running);
        Assert.Equal(2_500, running);
        Assert.True(seen.All(n => n % 2 == 0));
        Assert.Equal(5_000, Visited(table, 10_000, out _).Count);
        Assert.Equal(5_000, table.Count());
    }

    [Fact]
    public async Task AddsAndRemovesFromManyThreadsWhileTheHeartbeatWalks()
    {
        var table = new ConnectionTable<Item>();
        using var stop = new CancellationTokenSource();
        var walker = Task.Run(() =>
        {
            long walks = 0;
            do
            {
                table.Walk(0, 0, static (_, _) => { });
                walks++;
            }
            while (!stop.IsCancellationRequested);
            return walks;
        });
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var mine = new List<int>();
            for (int i = 0; i < 20_000; i++)
            {
                mine.Add(table.Add(new Item(w)));
                if (mine.Count > 100)
                {
                    table.Remove(mine[0]);
                    mine.RemoveAt(0);
                }
            }
            return mine;
        })).ToArray();
        var left = await Task.WhenAll(workers);
        stop.Cancel();
        Assert.True(await walker > 0);
        int expected = left.Sum(l => l.Count);
        Assert.Equal(expected, table.Count);
        Assert.Equal(expected, table.Count());
        Assert.Equal(left.SelectMany(l => l).Count(), left.SelectMany(l => l).Distinct().Count()); // no slot given twice
    }
}
