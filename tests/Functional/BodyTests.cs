using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Request and response bodies around the app: the request body limit, synchronous I/O, SendFile,
/// a body flushed as many segments, and flushes that wait on a slow client. Each test runs on
/// HttpSysLite and on Kestrel; the two must agree.
/// </summary>
public abstract class BodyTests
{
    protected abstract ServerKind Kind { get; }

    [Fact]
    public async Task BodyOverMaxRequestBodySizeIs413()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapPost("/small", async context =>
        {
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = 10;
            await context.Request.Body.CopyToAsync(Stream.Null);
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(413, response.StatusCode);

        await using var chunked = await server.ConnectAsync();
        await chunked.SendAsync("POST /small HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
        Assert.Equal(413, (await chunked.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task SynchronousWritesAreRefusedByDefault()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/sync", context =>
        {
            context.Response.Body.Write("sync"u8);
            return Task.CompletedTask;
        }));
        using var client = server.CreateClient();
        var response = await client.GetAsync("/sync");
        Assert.Equal(500, (int)response.StatusCode);
    }

    [Fact]
    public async Task SynchronousWritesWorkWhenAllowed()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/sync", context =>
        {
            context.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
            context.Response.Body.Write("sync"u8);
            return Task.CompletedTask;
        }));
        using var client = server.CreateClient();
        Assert.Equal("sync", await client.GetStringAsync("/sync"));
    }

    [Fact]
    public async Task SendFileSendsTheRequestedRange()
    {
        string path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, "0123456789abcdefghij");
        try
        {
            await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/file", context =>
                context.Response.SendFileAsync(path, offset: 5, count: 10)));
            using var client = server.CreateClient();
            Assert.Equal("56789abcde", await client.GetStringAsync("/file"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ABodyFlushedAsManySegmentsArrivesWholeAndInOrder()
    {
        // 100,000 bytes in one span larger than a pool block (memory the pipe allocates unpinned), then
        // 300 KiB copied in one write: one flush hands the socket some 80 segments, more than one
        // gather call takes.
        const int first = 100_000, second = 300 * 1024;
        static byte At(int i) => (byte)(i % 251);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/segments", async context =>
        {
            context.Response.ContentLength = first + second;
            var writer = context.Response.BodyWriter;
            var span = writer.GetSpan(first);
            for (int i = 0; i < first; i++)
            {
                span[i] = At(i);
            }
            writer.Advance(first);
            var rest = new byte[second];
            for (int i = 0; i < second; i++)
            {
                rest[i] = At(first + i);
            }
            await context.Response.Body.WriteAsync(rest);
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /segments HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var body = (await connection.ReadResponseAsync()).Body;
        Assert.Equal(first + second, body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != At(i))
            {
                Assert.Fail($"Byte {i} is {body[i]}, not {At(i)}.");
            }
        }
    }

    [Fact]
    public async Task BodyWriterFlushesWaitOnASlowClient()
    {
        const int chunk = 64 * 1024, chunks = 128; // 8 MiB: far past every buffer, so flushes must wait
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/stream", async context =>
        {
            var writer = context.Response.BodyWriter;
            for (int i = 0; i < chunks; i++)
            {
                writer.GetSpan(chunk)[..chunk].Fill((byte)('a' + i % 26));
                writer.Advance(chunk);
                var result = await writer.FlushAsync();
                Assert.False(result.IsCompleted);
            }
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await Task.Delay(500); // let the server fill every buffer before anything is read
        var response = await connection.ReadResponseAsync();
        Assert.Equal(chunk * chunks, response.Body.Length);
        Assert.Equal((byte)('a' + (chunks - 1) % 26), response.Body[^1]);
    }
}

public sealed class HttpSysLiteBodyTests : BodyTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelBodyTests : BodyTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverBodyTests : BodyTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
