using Microsoft.AspNetCore.Server.HttpSys;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;

namespace HttpSysLite.Tests.Functional;

/// <summary>MaxConnections: a connection beyond the limit is turned away per Http503Verbosity and closed.</summary>
public sealed class ConnectionLimitTests
{
    private static Task<TestServer> StartAsync(Http503VerbosityLevel verbosity) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/plaintext", () => "Hello, World!"), o =>
        {
            o.MaxConnections = 2;
            o.Http503Verbosity = verbosity;
        });

    private static async Task<RawConnection> ServedAsync(TestServer server)
    {
        var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        return connection;
    }

    [Theory]
    [InlineData(Http503VerbosityLevel.Limited, "HTTP/1.1 503 Service Unavailable")]
    [InlineData(Http503VerbosityLevel.Full, "HTTP/1.1 503 Service Unavailable (connection limit)")]
    public async Task AConnectionBeyondTheLimitGets503AndIsClosed(Http503VerbosityLevel verbosity, string statusLine)
    {
        await using var server = await StartAsync(verbosity);
        await using var first = await ServedAsync(server);
        await using var second = await ServedAsync(server);

        await using (var third = await server.ConnectAsync())
        {
            await third.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            var response = await third.ReadResponseAsync();
            Assert.Equal(statusLine, response.StatusLine);
            Assert.True(response.HasConnectionClose);
            Assert.True(await third.IsClosedByServerAsync());
        }

        // The admitted connections keep working, and once one leaves a new one is admitted.
        await first.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
        await second.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            await using var next = await server.ConnectAsync();
            await next.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            var response = await next.ReadResponseAsync();
            if (response.StatusCode == 200)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "no connection admitted after one closed");
            await Task.Delay(100); // the closed connection is released once its socket is torn down
        }
    }

    [Fact]
    public async Task BasicVerbosityResetsAConnectionBeyondTheLimit()
    {
        await using var server = await StartAsync(Http503VerbosityLevel.Basic);
        await using var first = await ServedAsync(server);
        await using var second = await ServedAsync(server);
        RawConnection third;
        try
        {
            third = await server.ConnectAsync();
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            return; // reset as soon as it was accepted, before our connect had completed
        }
        await using var _ = third;
        try
        {
            await third.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Already reset.
        }
        Assert.True(await third.IsClosedByServerAsync(), "closed without a response");
    }

    [Fact]
    public async Task MaxConnectionsMustBePositive()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(ServerKind.HttpSysLite, app => { }, o => o.MaxConnections = 0));
        Assert.Contains("MaxConnections", error.Message);
    }
}
