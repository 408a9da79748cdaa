using System.Net.Sockets;
using System.Text;
using HttpSysLite.Features;
using HttpSysLite.Tests.Functional.Support;
using Xunit.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// HTTP.sys's BUFFER_DATA choice (docs/design.md section 6), seen from an app that writes 4 KiB at a time
/// and awaits each write, against a client that does not read: buffered, the app runs ahead of the
/// client until the connection's send buffer is full, then stops there; unbuffered, it stops after
/// the socket's small window. Either way the app's progress stops at a bound, and resumes when the
/// client reads. Counts are compared with bounds far apart, not timed.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class SendBufferingTests(ITestOutputHelper output)
{
    private const int WriteSize = 4096;
    private const int Writes = 2048; // 8 MiB: far more than any buffer on the way
    private const long BufferBound = 64 * 1024;

    [Fact]
    public async Task BufferedWritesCompleteBeforeTheClientReadsUpToTheBufferBound()
    {
        var progress = new Progress();
        await using var server = await StartAsync(progress, o => o.EnableKernelResponseBuffering = true);
        long before = await RunAgainstANonReadingClientAsync(server, "/write", progress);
        Assert.True(before >= BufferBound, $"buffered: only {before} bytes of writes completed before the client read");
    }

    [Fact]
    public async Task UnbufferedWritesWaitForTheClient()
    {
        var progress = new Progress();
        await using var server = await StartAsync(progress, static _ => { });
        long before = await RunAgainstANonReadingClientAsync(server, "/write", progress);
        Assert.True(before < BufferBound / 2, $"unbuffered: {before} bytes of writes completed before the client read");
    }

    [Fact]
    public async Task TheFeatureTurnsBufferingOnForOneResponse()
    {
        var progress = new Progress();
        await using var server = await StartAsync(progress, static _ => { });
        long before = await RunAgainstANonReadingClientAsync(server, "/write?buffer=on", progress);
        Assert.True(before >= BufferBound, $"buffered by the feature: only {before} bytes completed before the client read");
    }

    [Fact]
    public async Task DisableBufferingTurnsItOffForOneResponse()
    {
        var progress = new Progress();
        await using var server = await StartAsync(progress, o => o.EnableKernelResponseBuffering = true);
        long before = await RunAgainstANonReadingClientAsync(server, "/write?buffer=disable", progress);
        Assert.True(before < BufferBound / 2, $"after DisableBuffering: {before} bytes completed before the client read");
    }

    [Fact]
    public async Task AnUnbufferedWriteThatCompletesTheContentLengthDoesNotWait()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, a => a.Run(async context =>
        {
            // 48 KiB: three times the unbuffered window, within the send buffer's bound.
            context.Response.ContentLength = 48 * 1024;
            await context.Response.Body.WriteAsync(new byte[48 * 1024]);
            done.TrySetResult();
        }));
        using var client = await ConnectSmallAsync(server);
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), SocketFlags.None);
        // Nothing follows the last declared byte, so nothing is paced: the app is done although the
        // client has read nothing (the bytes wait in the connection's buffers).
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Requests <paramref name="path"/> on a client with a small receive buffer that reads nothing
    /// until the app's progress has stopped, checks it stays stopped, then reads the whole response.
    /// Returns how many bytes of writes completed before the client read.
    /// </summary>
    private async Task<long> RunAgainstANonReadingClientAsync(TestServer server, string path, Progress progress)
    {
        using var client = await ConnectSmallAsync(server);
        await client.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), SocketFlags.None);

        long stopped = await progress.WaitUntilStoppedAsync();
        await Task.Delay(1000);
        long later = Volatile.Read(ref progress.Completed);
        Assert.Equal(stopped, later); // memory does not grow while the client does not read
        output.WriteLine($"{path}: {stopped} bytes of writes completed before the client read");
        Assert.True(stopped < (long)WriteSize * Writes, "the app wrote everything to a client that read nothing");
        Assert.True(stopped <= BufferBound + KernelBufferLimit(), $"{stopped} bytes completed: more than our buffer and the kernel's socket buffers hold");

        long received = 0;
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            int read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                break;
            }
            received += read;
        }
        Assert.Equal((long)WriteSize * Writes + 1, Volatile.Read(ref progress.Completed));
        Assert.True(received > (long)WriteSize * Writes, $"received {received} bytes");
        return stopped;
    }

    /// <summary>The most the kernel lets a socket pair hold: tcp_wmem's and tcp_rmem's maxima (tcp(7)); 8 MiB elsewhere.</summary>
    private static long KernelBufferLimit()
    {
        static long Max(string path) => File.Exists(path) ? long.Parse(File.ReadAllText(path).Split('\t', ' ').Last(p => p.Length > 0)) : 4 << 20;
        return Max("/proc/sys/net/ipv4/tcp_wmem") + Max("/proc/sys/net/ipv4/tcp_rmem");
    }

    private static async Task<Socket> ConnectSmallAsync(TestServer server)
    {
        // A small receive buffer (set before connecting, so the window is small from the start), and
        // an Ethernet-sized segment instead of loopback's 64 KiB, as a client across a network has:
        // the unbuffered window is at least two segments.
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        if (OperatingSystem.IsLinux())
        {
            client.SetRawSocketOption(6 /* IPPROTO_TCP */, 2 /* TCP_MAXSEG */, BitConverter.GetBytes(1400));
        }
        await client.ConnectAsync(server.EndPoint);
        return client;
    }

    private static Task<TestServer> StartAsync(Progress progress, Action<HttpSysLiteOptions> options) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, a => a.MapGet("/write", async (HttpContext context, string? buffer) =>
        {
            if (buffer == "on")
            {
                context.Features.Get<IHttpSysLiteResponseFeature>()!.EnableKernelResponseBuffering = true;
            }
            else if (buffer == "disable")
            {
                context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
            }
            // One more byte than the 4 KiB writes, so every 4 KiB write is paced (the last one is not).
            context.Response.ContentLength = (long)WriteSize * Writes + 1;
            var chunk = new byte[WriteSize];
            for (int i = 0; i < Writes; i++)
            {
                await context.Response.Body.WriteAsync(chunk);
                Interlocked.Add(ref progress.Completed, WriteSize);
            }
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, 1));
            Interlocked.Add(ref progress.Completed, 1);
        }), options);

    private sealed class Progress
    {
        public long Completed;

        /// <summary>Waits until the count has not moved for a second (bounded), and returns it.</summary>
        public async Task<long> WaitUntilStoppedAsync()
        {
            long last = -1;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(1000);
                long now = Volatile.Read(ref Completed);
                if (now == last && now > 0)
                {
                    return now;
                }
                last = now;
            }
            throw new TimeoutException($"the app's writes kept completing ({last} bytes) for a client that read nothing");
        }
    }
}
