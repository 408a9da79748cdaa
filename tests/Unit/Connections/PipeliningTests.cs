using System.Text;
using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>Requests sent before their predecessors are answered are answered in order (RFC 9112 section 9.3.2).</summary>
public sealed class PipeliningTests
{
    [Fact]
    public async Task ThreePipelinedRequestsAreAnsweredInOrder()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync(context.Request.Path.Value!));
        await using var client = server.Connect();
        await client.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal($"/{i}", (await client.ReadResponseAsync()).BodyText);
        }
    }

    [Fact]
    public async Task ARequestPipelinedBehindABodyIsReadAfterTheBody()
    {
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.ASCII);
            string body = await reader.ReadToEndAsync();
            await context.Response.WriteAsync($"{context.Request.Method} {body}");
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("POST abc", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("GET ", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task APipelinedChunkedBodyIsDecodedAndItsSuccessorServed()
    {
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.ASCII);
            await context.Response.WriteAsync("[" + await reader.ReadToEndAsync() + "]");
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("[abcde]", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("[]", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task APipelinedRequestAfterConnectionCloseIsNotAnswered()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync(context.Request.Path.Value!));
        await using var client = server.Connect();
        await client.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.Equal("/1", first.BodyText);
        Assert.True(first.HasConnectionClose);
        Assert.True(await client.IsClosedByServerAsync());
    }
}
