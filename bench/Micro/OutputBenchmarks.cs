using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Bench.Micro;

/// <summary>Writing a plaintext response head (status line, app headers, Date, Server) into a pipe.</summary>
[MemoryDiagnoser]
public class OutputBenchmarks
{
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly ResponseHeaderWriter _writer = new();

    [Benchmark]
    public long PlaintextHead()
    {
        var output = _pipe.Writer;
        output.Write(ReasonPhrases.StatusLine(200));
        _writer.Reset(output);
        _writer.Append("Content-Type", "text/plain");
        _writer.Append("Content-Length", "13");
        output.Write(HttpDate.HeaderLine);
        output.Write("Server: HttpSysLite\r\n\r\n"u8);
        long written = output.UnflushedBytes;
        output.FlushAsync().GetAwaiter().GetResult();
        _pipe.Reader.TryRead(out var result);
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return written;
    }
}
