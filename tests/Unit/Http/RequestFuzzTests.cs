using System.Buffers;
using HttpSysLite.Tests.Corpus;
using HttpSysLite.Tests.Unit.Support;

namespace HttpSysLite.Tests.Unit.Http;

/// <summary>
/// Bounded, deterministic fuzzing of the pure request path (parser, validation, body framing): mutants
/// of valid requests never throw, and each gives the same outcomes whole, one byte per segment, and split
/// at random points. HTTPSYSLITE_FUZZ_ITERATIONS raises the count for long runs.
/// </summary>
public class RequestFuzzTests
{
    [Fact]
    public void MutantsNeverThrowAndParseTheSameHoweverTheyAreSegmented()
    {
        const int Seed = 20261121;
        int iterations = RequestMutator.Iterations(25_000);
        for (int i = 0; i < iterations; i++)
        {
            byte[] mutant = RequestMutator.Mutate(Seed, i);
            List<string> whole;
            try
            {
                whole = RequestCorpusTests.Run(new ReadOnlySequence<byte>(mutant));
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"iteration {i} threw on {RequestCorpus.Escape(mutant)}: {ex}");
            }
            var split = RequestCorpusTests.Run(Split(mutant, RequestMutator.SplitPoints(Seed, i, mutant.Length)));
            Assert.True(whole.SequenceEqual(split), $"iteration {i}: {RequestCorpus.Escape(mutant)} gave [{string.Join(" | ", whole)}] whole, [{string.Join(" | ", split)}] split");
            if (i % 10 == 0)
            {
                var bytewise = RequestCorpusTests.Run(Segments.OneBytePerSegment(mutant));
                Assert.True(whole.SequenceEqual(bytewise), $"iteration {i}: {RequestCorpus.Escape(mutant)} differs one byte per segment");
            }
        }
    }

    private static ReadOnlySequence<byte> Split(byte[] data, int[] points)
    {
        if (points.Length == 0 || data.Length == 0)
        {
            return new ReadOnlySequence<byte>(data);
        }
        var pieces = new List<byte[]>();
        int start = 0;
        foreach (int point in points.Append(data.Length))
        {
            if (point > start)
            {
                pieces.Add(data[start..point]);
                start = point;
            }
        }
        return Segments.FromPieces(pieces);
    }
}
