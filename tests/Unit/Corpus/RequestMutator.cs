namespace HttpSysLite.Tests.Corpus;

/// <summary>
/// Deterministic mutations of valid requests for the fuzz tests: bytes flipped, inserted, deleted and
/// duplicated, lines duplicated, dropped and swapped, digits changed, the end cut off. The same seed
/// gives the same mutants, so a failure is reproducible from its iteration number.
/// </summary>
public static class RequestMutator
{
    /// <summary>Bytes that matter to an HTTP parser, favoured over random ones when inserting.</summary>
    private static readonly byte[] Interesting = "\r\n\0 \t:,;\"%/\\?#0123456789abcdefxX-+"u8.ToArray().Concat(new byte[] { 0x7F, 0x80, 0xA0, 0xFF, 0x0B, 0x0C }).ToArray();

    /// <summary>The default iteration count, raised by the HTTPSYSLITE_FUZZ_ITERATIONS environment variable for long runs.</summary>
    public static int Iterations(int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable("HTTPSYSLITE_FUZZ_ITERATIONS"), out int count) && count > 0 ? count : defaultCount;

    /// <summary>The valid requests mutations start from: the corpus's valid cases and its smuggling vectors.</summary>
    public static IReadOnlyList<byte[]> Seeds { get; } = RequestCorpus.Loaded.Cases
        .Where(c => c.Name.StartsWith("valid/", StringComparison.Ordinal) || c.Name.StartsWith("smuggle/", StringComparison.Ordinal)
            || c.Name.StartsWith("te/", StringComparison.Ordinal) || c.Name.StartsWith("chunked/", StringComparison.Ordinal))
        .Select(c => c.Request)
        .ToArray();

    /// <summary>Mutant number <paramref name="iteration"/> of the run seeded with <paramref name="seed"/>.</summary>
    public static byte[] Mutate(int seed, int iteration)
    {
        var random = new Random(HashCode.Combine(seed, iteration));
        var bytes = new List<byte>(Seeds[random.Next(Seeds.Count)]);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations && bytes.Count > 0; m++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(10))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(at, random.Next(4) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)]);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    int length = Math.Min(1 + random.Next(16), bytes.Count - at);
                    bytes.InsertRange(at + length, bytes.GetRange(at, length));
                    break;
                case 4:
                case 5:
                case 6:
                    MutateLines(bytes, random);
                    break;
                case 7:
                    int digit = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                    {
                        bytes[digit] = (byte)('0' + random.Next(10));
                    }
                    break;
                case 8:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes[at] = Interesting[random.Next(Interesting.Length)];
                    break;
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Random split points, so a mutant is also delivered across segments.</summary>
    public static int[] SplitPoints(int seed, int iteration, int length)
    {
        var random = new Random(HashCode.Combine(seed, iteration, length));
        return Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(length + 1)).Order().ToArray();
    }

    private static void MutateLines(List<byte> bytes, Random random)
    {
        var lines = new List<List<byte>>();
        var line = new List<byte>();
        foreach (byte b in bytes)
        {
            line.Add(b);
            if (b == (byte)'\n')
            {
                lines.Add(line);
                line = new List<byte>();
            }
        }
        if (line.Count > 0)
        {
            lines.Add(line);
        }
        int i = random.Next(lines.Count);
        switch (random.Next(3))
        {
            case 0:
                lines.Insert(i, new List<byte>(lines[i]));
                break;
            case 1:
                lines.RemoveAt(i);
                break;
            default:
                int j = random.Next(lines.Count);
                (lines[i], lines[j]) = (lines[j], lines[i]);
                break;
        }
        bytes.Clear();
        foreach (var l in lines)
        {
            bytes.AddRange(l);
        }
    }
}
