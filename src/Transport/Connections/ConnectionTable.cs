using System.Collections;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The driver's open connections, in slots the heartbeat walks (issue 22: 100,000 idle connections,
/// a heartbeat under 2% of a core). Beside each slot is the time the connection next needs the
/// heartbeat: 0 while it runs (every tick looks at it, as its deadlines change with each request), or,
/// while it is suspended idle (docs/design.md section 12), the one deadline it still has. So a tick
/// reads one long per idle connection, in an array, and touches the connection itself only when that
/// deadline has come, instead of following three or four objects per connection four times a second.
/// Slots live in chunks that never move, so a connection's writes land where the heartbeat reads
/// them however many connections come later. Adding and removing take a lock (once per connection);
/// the walk and <see cref="SetDue"/> take none.
/// </summary>
internal sealed class ConnectionTable<T> : IEnumerable<T>
    where T : class
{
    /// <summary>A slot's due while its connection runs: the heartbeat looks at it at every tick.</summary>
    public const long Always = 0;

    private const int ChunkShift = 10;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private readonly object _lock = new();
    private Chunk[] _chunks = [];
    private int[] _free = [];
    private int _freeCount;
    private int _used; // slots ever handed out: the walk's end
    private int _count;

    /// <summary>Open connections.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a slot for <paramref name="connection"/>, due at every tick; returns it.</summary>
    public int Add(T connection)
    {
        lock (_lock)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                slot = _used;
                if ((slot >> ChunkShift) == _chunks.Length)
                {
                    var chunks = new Chunk[_chunks.Length + 1];
                    Array.Copy(_chunks, chunks, _chunks.Length);
                    chunks[^1] = new Chunk();
                    Volatile.Write(ref _chunks, chunks); // the walk reads the old directory or this one: both hold every older chunk
                }
                Volatile.Write(ref _used, slot + 1);
            }
            var chunk = _chunks[slot >> ChunkShift];
            chunk.Due[slot & ChunkMask] = Always;
            Volatile.Write(ref chunk.Connections[slot & ChunkMask], connection);
            _count++;
            return slot;
        }
    }

    /// <summary>Frees <paramref name="slot"/> (once per connection: its owner makes sure).</summary>
    public void Remove(int slot)
    {
        lock (_lock)
        {
            var chunk = _chunks[slot >> ChunkShift];
            Volatile.Write(ref chunk.Connections[slot & ChunkMask], null);
            chunk.Due[slot & ChunkMask] = Always;
            if (_freeCount == _free.Length)
            {
                Array.Resize(ref _free, Math.Max(16, _free.Length * 2));
            }
            _free[_freeCount++] = slot;
            _count--;
        }
    }

    /// <summary>When the connection in <paramref name="slot"/> next needs the heartbeat (its own thread, or its suspension's).</summary>
    public void SetDue(int slot, long due) => Volatile.Write(ref Volatile.Read(ref _chunks)[slot >> ChunkShift].Due[slot & ChunkMask], due);

    /// <summary>
    /// Calls <paramref name="visit"/> for each connection due by <paramref name="now"/> (the heartbeat's
    /// thread); returns how many are due at every tick (running, not suspended).
    /// </summary>
    public int Walk<TState>(long now, TState state, Action<T, TState> visit)
    {
        var chunks = Volatile.Read(ref _chunks);
        int used = Volatile.Read(ref _used);
        int running = 0;
        for (int c = 0; c < chunks.Length && (c << ChunkShift) < used; c++)
        {
            var chunk = chunks[c];
            var due = chunk.Due;
            int end = Math.Min(ChunkSize, used - (c << ChunkShift));
            for (int i = 0; i < end; i++)
            {
                long at = Volatile.Read(ref due[i]);
                if (at > now)
                {
                    continue; // suspended, and its deadline is still ahead: the connection is not touched
                }
                if (Volatile.Read(ref chunk.Connections[i]) is { } connection)
                {
                    if (at == Always)
                    {
                        running++;
                    }
                    visit(connection, state);
                }
            }
        }
        return running;
    }

    public IEnumerator<T> GetEnumerator()
    {
        var chunks = Volatile.Read(ref _chunks);
        int used = Volatile.Read(ref _used);
        for (int slot = 0; slot < used; slot++)
        {
            if (Volatile.Read(ref chunks[slot >> ChunkShift].Connections[slot & ChunkMask]) is { } connection)
            {
                yield return connection;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed class Chunk
    {
        public readonly T?[] Connections = new T?[ChunkSize];
        public readonly long[] Due = new long[ChunkSize];
    }
}
