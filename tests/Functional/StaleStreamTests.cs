using System.IO.Pipelines;
using System.Text;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// A server reuses its per-request objects for each keep-alive request, so an app that keeps
/// Response.Body, Response.BodyWriter, Request.Body or Request.BodyReader past the end of its request
/// holds objects the next request on the connection uses too. Once the request has ended they refuse to be used
/// (ObjectDisposedException, as Kestrel's do), and the next response goes out whole.
/// </summary>
public abstract class StaleStreamTests
{
    /// <summary>
    /// How long the test lets the server get back to waiting for the next head after it answered: the
    /// window in which a stale write used to start the next request's response with the old headers.
    /// </summary>
    private static readonly TimeSpan BetweenRequests = TimeSpan.FromMilliseconds(200);

    protected abstract ServerKind Kind { get; }

    private sealed class Kept
    {
        public Stream? ResponseBody;
        public PipeWriter? BodyWriter;
        public Stream? RequestBody;
        public PipeReader? BodyReader;
        public readonly TaskCompletionSource Completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task<(TestServer Server, Kept Kept)> StartAsync()
    {
        var kept = new Kept();
        var server = await TestServer.StartAsync(Kind, app =>
        {
            app.MapPost("/keep", async context =>
            {
                kept.ResponseBody = context.Response.Body;
                kept.BodyWriter = context.Response.BodyWriter;
                kept.RequestBody = context.Request.Body; // left unread: the server skips it
                kept.BodyReader = context.Request.BodyReader;
                context.Response.OnCompleted(() =>
                {
                    kept.Completed.TrySetResult();
                    return Task.CompletedTask;
                });
                await context.Response.WriteAsync("first");
            });
            app.MapGet("/next", context => context.Response.WriteAsync("second"));
        });
        return (server, kept);
    }

    private static async Task AssertStaleUseIsRefusedAsync(Kept kept)
    {
        await Assert.ThrowsAsync<ObjectDisposedException>(() => kept.ResponseBody!.WriteAsync(Encoding.ASCII.GetBytes("stale")).AsTask());
        Assert.Throws<ObjectDisposedException>(() => kept.BodyWriter!.GetMemory());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => kept.BodyWriter!.FlushAsync().AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => kept.RequestBody!.ReadAsync(new byte[16]).AsTask());
        // On HttpSysLite the framework's reader over Request.Body, completed when its request ended.
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => kept.BodyReader!.ReadAsync().AsTask());
    }

    private static async Task AssertNextResponseIsWholeAsync(RawConnection connection)
    {
        await connection.SendAsync("GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("second", Encoding.ASCII.GetString(response.Body));
        Assert.Null(await connection.WaitForDataAsync(TimeSpan.FromMilliseconds(100))); // nothing stale follows it
    }

    [Fact]
    public async Task BodiesKeptFromAnEndedRequestAreRefusedAndTheNextResponsesAreWhole()
    {
        var (server, kept) = await StartAsync();
        await using var _ = server;
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /keep HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal("first", Encoding.ASCII.GetString((await connection.ReadResponseAsync()).Body));
        await kept.Completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(BetweenRequests);

        // Between requests: nothing may start a response on the connection.
        await AssertStaleUseIsRefusedAsync(kept);
        await AssertNextResponseIsWholeAsync(connection);

        // After the next request ended too (the objects it used are the same ones, now ended again).
        await Task.Delay(BetweenRequests);
        await AssertStaleUseIsRefusedAsync(kept);
        await AssertNextResponseIsWholeAsync(connection);
    }
}

public sealed class HttpSysLiteStaleStreamTests : StaleStreamTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelStaleStreamTests : StaleStreamTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}
