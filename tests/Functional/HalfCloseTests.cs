using System.Net.Sockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// A client that sends its request and then half-closes (shutdown(SHUT_WR)) has said only that it sends
/// nothing more; it can still read (RFC 9112 section 9.6). The server takes the FIN as "no more
/// requests": it finishes the responses in flight, then closes. HttpSysLite only: Kestrel takes the FIN
/// for the client going away, aborts the request and sends nothing (its RequestAborted fires at the
/// FIN; dotnet/aspnetcore issue 13188), so there is no comparison to run.
/// </summary>
public sealed class HalfCloseTests
{
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task AHalfClosedClientReadsTheWholeResponse(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await using var connection = await server.ConnectAsync();
        // 4 KiB per awaited write, each passing RequestAborted: the FIN must not cancel them.
        await connection.SendAsync("GET /bytes/200000?chunk=4096 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        connection.Socket.Shutdown(SocketShutdown.Send);

        var response = await connection.ReadResponseAsync();
        Assert.Equal("200000", response.Header("Content-Length"));
        Assert.Equal(200_000, response.Body.Length);
        // Then the server closes: with a FIN, the response being whole.
        var (rest, reset) = await connection.ReadToCloseAsync();
        Assert.Empty(rest);
        Assert.False(reset, "the server reset the connection after a whole response");
    }

    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task AHalfClosedClientGetsAnswersToEveryRequestItSent(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync(
            "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n" +
            "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello" +
            "GET /bytes/100000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        connection.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal("hello", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal(100_000, (await connection.ReadResponseAsync()).Body.Length);
        Assert.True(await connection.IsClosedByServerAsync(), "the server kept the connection after the client's last request");
    }

    /// <summary>An app that waits before it answers is not told the request was aborted by a FIN alone.</summary>
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task AHalfCloseDoesNotAbortTheRequestInFlight(ServerKind kind)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(kind, app => app.MapGet("/later", async context =>
        {
            entered.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync(context.RequestAborted.IsCancellationRequested ? "aborted" : "answered", context.RequestAborted);
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /later HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        connection.Socket.Shutdown(SocketShutdown.Send);
        await Task.Delay(200); // the FIN has reached the server
        release.TrySetResult();

        var response = await connection.ReadResponseAsync();
        Assert.Equal("answered", Encoding.ASCII.GetString(response.Body));
        Assert.True(await connection.IsClosedByServerAsync());
    }
}
