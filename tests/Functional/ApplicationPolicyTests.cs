using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// What the server does around the app: exceptions, aborts, callbacks, limits. Each test runs on
/// HttpSysLite and on Kestrel; the two must agree.
/// </summary>
public abstract class ApplicationPolicyTests
{
    protected abstract ServerKind Kind { get; }

    /// <summary>A response cut short ends the stream early (FIN) or resets it; either way it never reads as whole.</summary>
    protected static async Task AssertCutShortAsync(RawConnection connection)
    {
        var ex = await Record.ExceptionAsync(() => connection.ReadResponseAsync());
        Assert.True(ex is IOException or SocketException, $"expected a cut-short response, got {ex?.GetType().Name ?? "a whole response"}");
    }

    [Fact]
    public async Task ClientDisconnectFiresRequestAborted()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/wait", async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { });
        }));

        var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await connection.DisposeAsync();
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ExceptionBeforeTheResponseStartsGives500WithAnEmptyBody()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/throw", context =>
        {
            context.Response.Headers["X-Lost"] = "lost";
            throw new InvalidOperationException("boom");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 500 Internal Server Error", response.StatusLine);
        Assert.Equal("0", response.Header("Content-Length"));
        Assert.Null(response.Header("X-Lost"));
        Assert.Empty(response.Body);

        // The connection is still good.
        await connection.SendAsync("GET /throw HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task ExceptionAfterTheResponseStartedAbortsTheConnection()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/throw-late", async context =>
        {
            await context.Response.WriteAsync("partial");
            await context.Response.Body.FlushAsync();
            throw new InvalidOperationException("boom");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw-late HTTP/1.1\r\nHost: localhost\r\n\r\n");
        // The head and the first chunk arrive; the body never completes: reading it must fail.
        await AssertCutShortAsync(connection);
    }

    [Fact]
    public async Task OnStartingRunsBeforeTheHeadAndOnCompletedAfterTheResponseLastRegisteredFirst()
    {
        var order = new List<string>();
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/callbacks", async context =>
        {
            context.Response.OnStarting(() => { order.Add("starting-1"); context.Response.Headers["X-First"] = "1"; return Task.CompletedTask; });
            context.Response.OnStarting(() => { order.Add("starting-2"); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { order.Add("completed-1"); completed.TrySetResult(); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { order.Add("completed-2"); return Task.CompletedTask; });
            await context.Response.WriteAsync("body");
            order.Add("written");
        }));
        using var client = server.CreateClient();
        var response = await client.GetAsync("/callbacks");
        Assert.Equal("1", response.Headers.GetValues("X-First").Single());
        await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["starting-2", "starting-1", "written", "completed-2", "completed-1"], order);
    }

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
    public async Task RequestFeaturesDescribeTheRequest()
    {
        int port = 0;
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/describe/{**rest}", context =>
        {
            var request = context.Request;
            var connection = context.Connection;
            return context.Response.WriteAsync(string.Join("|",
                request.Method, request.Scheme, request.Protocol, request.PathBase.Value, request.Path.Value, request.QueryString.Value,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget, connection.RemoteIpAddress, connection.LocalIpAddress,
                connection.LocalPort == port, string.IsNullOrEmpty(context.TraceIdentifier), string.IsNullOrEmpty(connection.Id)));
        }));
        port = server.Port;
        await using var raw = await server.ConnectAsync();
        await raw.SendAsync("GET /describe/a%20b/%2F/c?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await raw.ReadResponseAsync();
        Assert.Equal("GET|http|HTTP/1.1||/describe/a b/%2F/c|?x=1&y=%20|/describe/a%20b/%2F/c?x=1&y=%20|127.0.0.1|127.0.0.1|True|False|False", response.BodyText);
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
    public async Task AHeaderValueIsCheckedEachTimeItIsNotTheStringTheConnectionSentBefore()
    {
        // The same field name on one connection, first with a valid value, then with a line break.
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/value", context =>
        {
            context.Response.Headers["X-Value"] = context.Request.Query["bad"].Count > 0 ? "fine\r\nX-Forged: yes" : "fine";
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /value HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Contains(new KeyValuePair<string, string>("X-Value", "fine"), (await connection.ReadResponseAsync()).Headers);
        await connection.SendAsync("GET /value?bad HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "X-Forged");
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

    [Fact]
    public async Task AFeatureTheAppRemovesOrReplacesStaysSoForThatRequestOnly()
    {
        var seen = new List<string>();
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/features", context =>
        {
            var features = context.Features;
            bool hadOwn = features.Get<IHttpRequestIdentifierFeature>() is not null;
            int revision = features.Revision;
            features.Set<IHttpRequestIdentifierFeature>(null);
            bool removed = features.Get<IHttpRequestIdentifierFeature>() is null && features[typeof(IHttpRequestIdentifierFeature)] is null;
            features.Set<IHttpRequestIdentifierFeature>(new HttpRequestIdentifierFeature { TraceIdentifier = "replaced" });
            lock (seen)
            {
                seen.Add($"{hadOwn} {removed} {features.Revision != revision} {context.TraceIdentifier}");
            }
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        for (int i = 0; i < 2; i++) // the second request on the connection starts with the server's own feature again
        {
            await connection.SendAsync("GET /features HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        Assert.Equal(["True True True replaced", "True True True replaced"], seen);
    }

    [Fact]
    public async Task AFeatureOfTheWrongTypeIsRefusedWhenSetAndTheServersStays()
    {
        string? outcome = null;
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/wrong", context =>
        {
            var features = context.Features;
            var error = Record.Exception(() => features[typeof(IHttpResponseFeature)] = new object());
            outcome = $"{error?.GetType().Name} {features.Get<IHttpResponseFeature>() is not null}";
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /wrong HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        Assert.Equal("InvalidCastException True", outcome);
    }

    [Fact]
    public async Task ContentLengthMismatchAbortsTheResponse()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/short", async context =>
        {
            context.Response.ContentLength = 10;
            await context.Response.WriteAsync("12345");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await AssertCutShortAsync(connection);
    }
}

public sealed class HttpSysLiteApplicationPolicyTests : ApplicationPolicyTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// HttpSysLite only, a deliberate difference: a header collection the app installs through
    /// IHttpResponseFeature.Headers is the one sent. Kestrel accepts the new collection but
    /// serialises its own, so the replacement's headers are silently lost.
    /// </summary>
    [Fact]
    public async Task AReplacedResponseHeaderCollectionIsTheOneSent()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/replaced", context =>
        {
            var feature = context.Features.Get<IHttpResponseFeature>()!;
            var replacement = new HeaderDictionary { ["X-Replaced"] = "yes" };
            feature.Headers = replacement;
            return context.Response.WriteAsync("ok");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /replaced HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("yes", response.Header("X-Replaced"));
        Assert.Equal("ok", response.BodyText);
    }

    /// <summary>
    /// HttpSysLite only: Kestrel does not support response trailers on HTTP/1.1 (its trailers feature
    /// serves HTTP/2 and HTTP/3); HttpSysLite sends them after the last chunk (RFC 9112 section 7.1.2).
    /// </summary>
    [Fact]
    public async Task TrailersFollowTheLastChunk()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/trailers", async context =>
        {
            var trailers = context.Features.Get<IHttpResponseTrailersFeature>();
            Assert.NotNull(trailers);
            trailers.Trailers["X-Checksum"] = "abc";
            await context.Response.WriteAsync("body");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /trailers HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.True(response.WasChunked);
        Assert.Equal("body", response.BodyText);
        Assert.Equal("abc", response.Trailers.Single(t => t.Key == "X-Checksum").Value);
    }

    /// <summary>
    /// A trailer is checked as a header is: a CR LF in its value would add a field the app never set,
    /// so the response is cut short instead (it has started; its end cannot be sent).
    /// </summary>
    [Fact]
    public async Task ATrailerWithALineBreakCutsTheResponseShortInsteadOfForgingAField()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/trailers", async context =>
        {
            context.Features.Get<IHttpResponseTrailersFeature>()!.Trailers["X-Checksum"] = "abc\r\nX-Forged: yes";
            await context.Response.WriteAsync("body");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /trailers HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await AssertCutShortAsync(connection);
    }
}

public sealed class KestrelApplicationPolicyTests : ApplicationPolicyTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}
