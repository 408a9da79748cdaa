using Microsoft.AspNetCore.Server.HttpSys;
using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>What the connection loop answers itself, with Connection: close, before any app runs (README "Errors").</summary>
public sealed class RejectionTests
{
    private static Task<InMemoryServer> StartAsync(Action<HttpSysLiteOptions>? options = null) =>
        InMemoryServer.StartAsync(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.WriteAsync("app");
        }, options);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n\r\n", 400)] // no Host (RFC 9112 section 3.2)
    [InlineData("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400)] // two spaces in the request line
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)] // two Hosts
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400)] // a space in a field name
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400)] // smuggling door
    [InlineData("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505)]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501)]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate, chunked\r\n\r\n", 501)] // a registered coding we do not decode
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, deflate\r\n\r\n", 400)] // chunked not last (RFC 9112 section 6.3)
    [InlineData("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405)]
    public async Task AMalformedRequestIsAnsweredWithItsStatusAndClosed(string request, int status)
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync(request);
        var response = await client.ReadResponseAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.True(response.HasConnectionClose);
        Assert.Empty(response.Body);
        Assert.True(await client.IsClosedByServerAsync());
    }

    /// <summary>
    /// A line that already makes the request invalid is answered as soon as it arrives, although the
    /// head never ends: the clock is fake and never moves, so HeaderWait cannot be what answers.
    /// </summary>
    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n")] // a second Content-Length
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n")]       // one that overflows
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb")]                                         // a bare CR in a field line
    [InlineData("GET / HTTP/1.1\rHost: a")]                                                         // a bare CR after the request line
    public async Task ALineThatDecidesTheRequestIsAnsweredBeforeTheHeadEnds(string unfinishedHead)
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync(unfinishedHead);
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
        Assert.Equal("HTTP/1.1 400 Bad Request", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task AHeadOverMaxRequestBytesIs431()
    {
        await using var server = await StartAsync(o => o.MaxRequestBytes = 1024);
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('a', 2000) + "\r\n\r\n");
        Assert.Equal(431, (await client.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task ARequestLineOverItsLimitIs414()
    {
        await using var server = await StartAsync(o => o.MaxRequestBytes = 1024);
        await using var client = server.Connect();
        await client.SendAsync("GET /" + new string('a', 2000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(414, (await client.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task ABodyOverMaxRequestBodySizeIs413()
    {
        await using var server = await StartAsync(o => o.MaxRequestBodySize = 10);
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
        var response = await client.ReadResponseAsync();
        Assert.Equal(413, response.StatusCode);
        Assert.True(response.HasConnectionClose);
    }

    [Fact]
    public async Task ARequestNoPrefixMatchesIs400AsInHttpSys()
    {
        await using var server = await StartAsync(o => o.UrlPrefixes.Add("http://+:0/app/"));
        await using var client = server.Connect();
        await client.SendAsync("GET /app/x HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
        await client.SendAsync("GET /apple HTTP/1.1\r\nHost: a\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(400, response.StatusCode);
        Assert.True(response.HasConnectionClose);
    }

    [Fact]
    public async Task AConnectionBeyondMaxConnectionsIsTurnedAwayWith503()
    {
        await using var server = await StartAsync(o =>
        {
            o.MaxConnections = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Limited;
        });
        await using var first = server.Connect();
        await first.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
        await using var second = server.Connect();
        var response = await second.ReadResponseAsync();
        Assert.Equal(503, response.StatusCode);
        Assert.True(await second.IsClosedByServerAsync());
        await first.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task WithBasicVerbosityAConnectionBeyondTheLimitIsReset()
    {
        await using var server = await StartAsync(o => o.MaxConnections = 1);
        await using var first = server.Connect();
        await first.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
        await using var second = server.Connect();
        Assert.True(await second.IsClosedByServerAsync());
        Assert.True(second.WasReset);
    }
}
