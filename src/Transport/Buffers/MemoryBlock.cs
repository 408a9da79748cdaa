using System.Buffers;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Buffers;

/// <summary>
/// One block of <see cref="BlockMemoryPool"/>: a pinned array (so a socket operation pins nothing) and
/// the owner object the pipe disposes to give it back; both are reused, never reallocated.
/// </summary>
internal sealed class MemoryBlock : IMemoryOwner<byte>
{
    private readonly BlockMemoryPool _pool;

    public MemoryBlock(BlockMemoryPool pool, byte[] pinnedArray)
    {
        _pool = pool;
        Memory = MemoryMarshal.CreateFromPinnedArray(pinnedArray, 0, pinnedArray.Length);
    }

    public Memory<byte> Memory { get; }

    public void Dispose() => _pool.Return(this);
}
