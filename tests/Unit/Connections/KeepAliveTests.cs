using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>The connection loop's persistence rules (RFC 9112 section 9.3), over the in-memory transport.</summary>
public sealed class KeepAliveTests
{
    private static Task<InMemoryServer> StartAsync() =>
        InMemoryServer.StartAsync(context => context.Response.WriteAsync("hello " + context.Request.Path));

    [Fact]
    public async Task AnHttp11ConnectionServesRequestAfterRequest()
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync($"GET /r{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Equal($"hello /r{i}", response.BodyText);
            Assert.False(response.HasConnectionClose);
        }
        Assert.Equal(1, server.Driver.ConnectionCount);
    }

    [Fact]
    public async Task ConnectionCloseIsAnsweredWithCloseAndTheServerEndsTheConnection()
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.True(response.HasConnectionClose);
        Assert.True(await client.IsClosedByServerAsync());
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the connection was not released");
    }

    [Fact]
    public async Task AnHttp10RequestWithoutKeepAliveClosesAfterItsResponse()
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("hello /", response.BodyText);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task AnHttp10RequestWithKeepAliveStaysOpen()
    {
        // With a length: HTTP/1.0 has no chunked framing, so only a framed response can keep the connection.
        await using var server = await InMemoryServer.StartAsync(context =>
        {
            string body = "hello " + context.Request.Path;
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        });
        await using var client = server.Connect();
        await client.SendAsync("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.Equal("keep-alive", first.Header("Connection"));
        await client.SendAsync("GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("hello /two", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task AnUnreadSmallBodyIsSkippedSoTheNextRequestIsReadWhole()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("ignored the body"));
        await using var client = server.Connect();
        await client.SendAsync("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
        await client.SendAsync("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
        var second = await client.ReadResponseAsync();
        Assert.Equal(200, second.StatusCode);
        Assert.False(second.HasConnectionClose);
    }
}
