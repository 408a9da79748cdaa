using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Response.BodyWriter keeps PipeWriter's promises: Complete ends the response at once, Complete with
/// an exception fails it as an app exception would, and CancelPendingFlush makes the flush that waits
/// (or, when none does, the next) return IsCanceled. The shared tests run on HttpSysLite and on
/// Kestrel; where Kestrel does otherwise, HttpSysLite's own tests say how.
/// </summary>
public abstract class ResponseBodyWriterTests
{
    protected abstract ServerKind Kind { get; }

    [Fact]
    public async Task CompleteSendsTheWholeResponseWhileTheAppStillRuns()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/complete", async context =>
        {
            await context.Response.BodyWriter.WriteAsync(Encoding.ASCII.GetBytes("done"));
            await context.Response.BodyWriter.CompleteAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the app is still running
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /complete HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
        release.SetResult();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("done", Encoding.ASCII.GetString(response.Body));
    }

    [Fact]
    public async Task CompleteWithAnExceptionAfterTheHeadAbortsTheResponse()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/fail", async context =>
        {
            var writer = context.Response.BodyWriter;
            await writer.WriteAsync(Encoding.ASCII.GetBytes("partial"));
            await writer.FlushAsync();
            writer.Complete(new InvalidOperationException("the producer failed"));
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var ex = await Record.ExceptionAsync(() => connection.ReadResponseAsync());
        Assert.True(ex is IOException or SocketException, $"expected a cut-short response, got {ex?.GetType().Name ?? "a whole response"}");
    }

    [Fact]
    public async Task CancelPendingFlushWithNoFlushWaitingCancelsTheNextOne()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/cancel", async context =>
        {
            var writer = context.Response.BodyWriter;
            await writer.WriteAsync(Encoding.ASCII.GetBytes("one,"));
            writer.CancelPendingFlush();
            var canceled = await writer.FlushAsync();
            await writer.WriteAsync(Encoding.ASCII.GetBytes(canceled.IsCanceled ? "canceled," : "not canceled,"));
            var next = await writer.FlushAsync(); // the cancel was used up
            await writer.WriteAsync(Encoding.ASCII.GetBytes(next.IsCanceled ? "canceled" : "not canceled"));
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /cancel HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("one,canceled,not canceled", Encoding.ASCII.GetString(response.Body)); // nothing written was lost
    }

    [Fact]
    public async Task AFlushWaitingWhenTheAppsTokenIsCancelledThrows()
    {
        var result = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/token", async context =>
        {
            var writer = context.Response.BodyWriter;
            var chunk = new byte[64 * 1024];
            using var cancellation = new CancellationTokenSource();
            // The client reads nothing: write until a flush waits (at most 256 MiB).
            for (int i = 0; i < 4096; i++)
            {
                Task<FlushResult> flush = writer.WriteAsync(chunk, cancellation.Token).AsTask();
                if (await Task.WhenAny(flush, Task.Delay(250)) != flush)
                {
                    cancellation.Cancel();
                    try
                    {
                        await flush.WaitAsync(TimeSpan.FromSeconds(10));
                        result.SetResult(null);
                    }
                    catch (Exception ex)
                    {
                        result.SetResult(ex);
                    }
                    break;
                }
            }
            result.TrySetException(new InvalidOperationException("no flush waited"));
            context.Abort();
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /token HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.IsAssignableFrom<OperationCanceledException>(await result.Task.WaitAsync(TimeSpan.FromSeconds(60)));
    }
}

public sealed class HttpSysLiteResponseBodyWriterTests : ResponseBodyWriterTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// A writer completed with an exception is an app that failed, answered as the app-exception policy
    /// answers one (500 before the head). Kestrel logs the error but sends 200 with an empty body,
    /// which a client or cache would take for a successful empty response.
    /// </summary>
    [Fact]
    public async Task CompleteWithAnExceptionBeforeTheHeadGives500()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/fail", async context =>
        {
            context.Response.Headers["X-Dropped"] = "yes";
            await context.Response.BodyWriter.CompleteAsync(new InvalidOperationException("the producer failed"));
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode);
        Assert.Empty(response.Body);
        Assert.DoesNotContain(response.Headers, h => h.Key == "X-Dropped");
    }

    [Fact]
    public async Task CompleteWithAnExceptionThenRethrowingKeepsThe500()
    {
        // The usual producer shape: complete the writer with the error, then let it propagate.
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/fail", async context =>
        {
            var error = new InvalidOperationException("the producer failed");
            await context.Response.BodyWriter.CompleteAsync(error);
            throw error;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode); // whole: the rethrow does not abort the 500 already sent
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode); // and the connection lives on
    }

    /// <summary>
    /// The flush that waits (the client reads nothing) returns IsCanceled at once, whether it waits for
    /// the client to take the bytes (unbuffered) or for room in the send buffer (buffered). Kestrel's
    /// writer waits its flush out and returns it uncancelled.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CancelPendingFlushCancelsTheFlushThatWaits(bool buffered)
    {
        var result = new TaskCompletionSource<(bool Canceled, long Written)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, options: o => o.EnableKernelResponseBuffering = buffered, map: app => app.MapGet("/cancel", async context =>
        {
            var writer = context.Response.BodyWriter;
            var chunk = new byte[64 * 1024];
            long written = 0;
            // The client reads nothing yet: write until a flush waits (at most 256 MiB).
            for (int i = 0; i < 4096; i++)
            {
                Task<FlushResult> flush = writer.WriteAsync(chunk).AsTask();
                written += chunk.Length;
                if (await Task.WhenAny(flush, Task.Delay(250)) != flush)
                {
                    writer.CancelPendingFlush();
                    result.SetResult(((await flush.WaitAsync(TimeSpan.FromSeconds(10))).IsCanceled, written));
                    break;
                }
            }
            result.TrySetException(new InvalidOperationException("no flush waited"));
            // The response goes on after a cancelled flush: nothing written is lost.
            await writer.WriteAsync(Encoding.ASCII.GetBytes("END"));
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /cancel HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var (canceled, written) = await result.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(canceled);
        var response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(written + 3, response.Body.Length);
        Assert.Equal("END", Encoding.ASCII.GetString(response.Body.AsSpan(response.Body.Length - 3)));
    }
}

public sealed class KestrelResponseBodyWriterTests : ResponseBodyWriterTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverResponseBodyWriterTests : ResponseBodyWriterTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
