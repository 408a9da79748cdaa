using System.Buffers;
using System.Collections.Concurrent;

namespace HttpSysLite.Transport.Buffers;

/// <summary>
/// The memory behind every connection's pipes: fixed 4 KiB blocks, pinned once, handed out and taken
/// back without allocating. The shared ArrayPool keeps only a few arrays per core, so with more
/// connections in flight than that it allocated and dropped a 4 KiB array for about every other
/// request (measured: 1.7 KB of byte[] per plaintext request at 64 connections). A block is held only
/// while bytes are in a pipe, so idle connections hold none (bench/README.md, "Idle connections"), and
/// the spare blocks follow the load down: each trim (the driver's heartbeat, every
/// <see cref="HttpDriver.TrimPeriod"/>) drops those no rent needed since the last one.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The pipes' segment size (their default minimum) and the largest block this pool hands out.</summary>
    public const int BlockSize = 4096;

    /// <summary>
    /// Blocks kept for reuse at most (16 MiB): enough for a few thousand busy connections; what a burst
    /// takes beyond it goes back to the GC, so a spike does not pin its peak forever.
    /// </summary>
    public const int MaxRetainedBlocks = 4096;

    private readonly ConcurrentQueue<MemoryBlock> _blocks = new();
    private readonly SpareTrimmer _trimmer = new();
    private int _retained;
    private bool _disposed;

    /// <summary>One pool for every connection of the process.</summary>
    public static readonly BlockMemoryPool Default = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"At most {BlockSize} bytes.");
        }
        if (_blocks.TryDequeue(out var block))
        {
            _trimmer.OnTaken(Interlocked.Decrement(ref _retained));
            return block;
        }
        return new MemoryBlock(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    /// <summary>Takes a block back (called once per rent, by the block's Dispose).</summary>
    internal void Return(MemoryBlock block)
    {
        if (_disposed || Interlocked.Increment(ref _retained) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _retained);
            return; // dropped: the GC frees its array
        }
        _blocks.Enqueue(block);
    }

    /// <summary>Spare blocks now.</summary>
    public int SpareCount => Volatile.Read(ref _retained);

    /// <summary>Drops the spare blocks no rent needed since the last trim (their arrays go back to the GC).</summary>
    public void Trim()
    {
        int surplus = _trimmer.TakeSurplus(Volatile.Read(ref _retained));
        for (int i = 0; i < surplus && _blocks.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _blocks.Clear();
    }
}
