using System.Buffers;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>Builds multi-segment sequences, down to one byte per segment, to prove parsers do not assume contiguity.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> data) => Split(data, 1);

    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, int segmentLength)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        Segment? first = null;
        Segment? last = null;
        for (int i = 0; i < data.Length; i += segmentLength)
        {
            var chunk = data.Slice(i, Math.Min(segmentLength, data.Length - i)).ToArray();
            if (last is null)
            {
                first = last = new Segment(chunk, 0);
            }
            else
            {
                last = last.Append(chunk);
            }
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>A sequence of one segment per piece, in order.</summary>
    public static ReadOnlySequence<byte> FromPieces(IReadOnlyList<byte[]> pieces)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var piece in pieces)
        {
            last = last is null ? first = new Segment(piece, 0) : last.Append(piece);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
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
