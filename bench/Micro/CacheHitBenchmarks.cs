using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using HttpSysLite.Transport.Caching;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Bench.Micro;

/// <summary>
/// The cache-hit path as the connection runs it, minus the socket: build the key on the stack, look
/// the entry up, write its head, a fresh Date and its body into the output pipe, flush.
/// </summary>
[MemoryDiagnoser]
public class CacheHitBenchmarks
{
    private readonly ResponseCache _cache = new();
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));

    [GlobalSetup]
    public void Setup()
    {
        var policy = new CachePolicy(TimeSpan.FromHours(1), null, null, "public, max-age=3600", null);
        byte[] head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: public, max-age=3600\r\nContent-Length: 28\r\nServer: HttpSysLite\r\n"u8.ToArray();
        byte[] body = "cached response, app run #1\n"u8.ToArray();
        _cache.Store(new CacheEntry("http://localhost:5000/cached", 200, head, body, "HTTP/1.1 304 Not Modified\r\n"u8.ToArray(), policy, null));
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark]
    public long Hit()
    {
        Span<char> key = stackalloc char[256];
        int length = ResponseCache.WriteKey(key, "localhost:5000", 5000, "/cached", "");
        var entry = _cache.Lookup(key[..length])!;
        var output = _pipe.Writer;
        output.Write(entry.Head);
        output.Write(HttpDate.HeaderLine);
        output.Write("\r\n"u8);
        output.Write(entry.Body);
        long written = output.UnflushedBytes;
        output.FlushAsync().GetAwaiter().GetResult();
        _pipe.Reader.TryRead(out var result);
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return written;
    }
}
