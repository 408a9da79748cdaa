using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Bench.Micro;

/// <summary>Decoding a 4 KiB body sent as four 1 KiB chunks.</summary>
[MemoryDiagnoser]
public class ChunkedBenchmarks
{
    private readonly byte[] _destination = new byte[4096];
    private ReadOnlySequence<byte> _body;

    [GlobalSetup]
    public void Setup()
    {
        string chunk = "400\r\n" + new string('a', 1024) + "\r\n";
        _body = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(chunk + chunk + chunk + chunk + "0\r\n\r\n"));
    }

    [Benchmark]
    public int FourChunks()
    {
        var decoder = new ChunkedDecoder();
        var input = _body;
        int total = 0;
        while (!decoder.IsComplete)
        {
            decoder.Decode(input, _destination.AsSpan(total), HttpParserLimits.Default, out var consumed, out int written, out _);
            total += written;
            input = input.Slice(consumed);
        }
        return total;
    }
}
