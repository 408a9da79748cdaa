using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// A response that cannot be finished once its head is out ends with a reset (RST), never a FIN: after
/// a FIN a close-delimited body reads as whole, and many clients take any clean end for the end of the
/// message (RFC 9112 section 8: only an error "indicated by the underlying connection" marks it
/// incomplete). Every test runs on both of our socket engines; Kestrel resets only when the app aborts,
/// and where it does otherwise the test says what it does.
/// </summary>
public sealed class CutShortResponseTests
{
    /// <summary>
    /// The app throws once the client has the head and part of the body. HttpSysLite only: Kestrel ends
    /// such a response with a FIN, which leaves an HTTP/1.1 client to notice the missing last chunk, and
    /// makes an HTTP/1.0 client's close-delimited body look whole.
    /// </summary>
    [Theory]
    [InlineData(ServerKind.HttpSysLite, "HTTP/1.1")]
    [InlineData(ServerKind.HttpSysLiteSocketEngine, "HTTP/1.1")]
    [InlineData(ServerKind.HttpSysLite, "HTTP/1.0")]
    [InlineData(ServerKind.HttpSysLiteSocketEngine, "HTTP/1.0")]
    public async Task AnExceptionAfterTheHeadEndsWithAReset(ServerKind kind, string version)
    {
        var headRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(kind, app => app.MapGet("/throw-late", async context =>
        {
            await context.Response.WriteAsync("partial");
            await context.Response.Body.FlushAsync();
            await headRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            throw new InvalidOperationException("boom");
        }));
        await using var connection = await server.ConnectAsync();
        // HTTP/1.0 has no chunked coding: the body is close-delimited, and a FIN would make it whole.
        await connection.SendAsync($"GET /throw-late {version}\r\nHost: localhost\r\n\r\n");
        await AssertHeadThenResetAsync(connection, headRead);
    }

    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.Kestrel)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task AnAbortMidBodyEndsWithAReset(ServerKind kind)
    {
        var headRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(kind, app => app.MapGet("/abort-late", async context =>
        {
            context.Response.ContentLength = 100_000;
            await context.Response.Body.WriteAsync(new byte[16 * 1024]);
            await context.Response.Body.FlushAsync();
            await headRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            context.Abort();
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /abort-late HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await AssertHeadThenResetAsync(connection, headRead);
    }

    /// <summary>
    /// The sample's /echo has sent its head and a chunk when the request body turns out malformed.
    /// HttpSysLite only: Kestrel ends the response with a FIN here (the last chunk missing).
    /// </summary>
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task ARequestBodyThatFailsAfterTheHeadEndsWithAReset(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        using var cts = new CancellationTokenSource(RawConnection.DefaultTimeout);
        Assert.Equal("HTTP/1.1 200 OK", await connection.ReadLineAsync(cts.Token));
        while (await connection.ReadLineAsync(cts.Token) is { Length: > 0 })
        {
        }
        Assert.Equal("5", await connection.ReadLineAsync(cts.Token));
        Assert.Equal("hello", await connection.ReadLineAsync(cts.Token));

        await connection.SendAsync("zz\r\n"); // not a chunk size: the body fails with the response under way
        var (_, reset) = await connection.ReadToCloseAsync();
        Assert.True(reset, "the response was ended with a FIN, as if whole");
    }

    /// <summary>
    /// The sample's /echo with a Content-Length body: its head (with that length) and the first bytes are
    /// out when the client half-closes without the rest. The body cannot complete, nor can the response.
    /// HttpSysLite only: Kestrel takes the FIN for the client leaving and ends with a FIN or a reset, by
    /// timing.
    /// </summary>
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task ABodyCutShortByTheClientsFinEndsTheResponseWithAReset(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nhello");
        using var cts = new CancellationTokenSource(RawConnection.DefaultTimeout);
        Assert.Equal("HTTP/1.1 200 OK", await connection.ReadLineAsync(cts.Token));
        while (await connection.ReadLineAsync(cts.Token) is { Length: > 0 })
        {
        }
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5, cts.Token)));

        connection.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var (rest, reset) = await connection.ReadToCloseAsync();
        Assert.Empty(rest);
        Assert.True(reset, "the response was ended with a FIN, as if whole");
    }

    /// <summary>Reads the head, lets the app go on to fail, then requires the end to be a reset.</summary>
    private static async Task AssertHeadThenResetAsync(RawConnection connection, TaskCompletionSource headRead)
    {
        using var cts = new CancellationTokenSource(RawConnection.DefaultTimeout);
        string? status = await connection.ReadLineAsync(cts.Token);
        Assert.Equal(200, int.Parse(status!.Split(' ')[1]));
        while (await connection.ReadLineAsync(cts.Token) is { Length: > 0 })
        {
        }
        headRead.TrySetResult();
        var (_, reset) = await connection.ReadToCloseAsync();
        Assert.True(reset, "the response was ended with a FIN, as if whole");
    }
}
