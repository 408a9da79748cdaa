using System.Buffers;

namespace HttpSysLite.Bench.Micro;

/// <summary>Splits bytes into a multi-segment sequence, as a pipe delivers data that crossed reads.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] data, int segmentLength)
    {
        Segment? first = null;
        Segment? last = null;
        for (int i = 0; i < data.Length; i += segmentLength)
        {
            var chunk = data.AsMemory(i, Math.Min(segmentLength, data.Length - i));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
