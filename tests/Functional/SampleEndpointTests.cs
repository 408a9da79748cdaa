using System.Net.WebSockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// HTTP/1.1 behaviour of the sample's endpoints over real loopback sockets. Every test runs twice:
/// against HttpSysLite and against Kestrel (the oracle), and both must agree.
/// </summary>
public abstract class SampleEndpointTests : IAsyncLifetime
{
    private TestServer _server = null!;

    protected abstract ServerKind Kind { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartSampleAsync(Kind);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PlaintextJsonAndHeadersAnswerThroughHttpClient()
    {
        using var client = _server.CreateClient();
        var plaintext = await client.GetAsync("/plaintext");
        Assert.Equal("Hello, World!", await plaintext.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", plaintext.Content.Headers.ContentType!.MediaType);
        Assert.Equal(13, plaintext.Content.Headers.ContentLength);
        Assert.True(plaintext.Headers.Date.HasValue);

        var json = await client.GetAsync("/json");
        Assert.Equal("{\"message\":\"Hello, World!\"}", await json.Content.ReadAsStringAsync());
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.Add("X-Probe", "probe-value");
        var headers = await client.SendAsync(request);
        string body = await headers.Content.ReadAsStringAsync();
        Assert.Contains("\"X-Probe\":\"probe-value\"", body);
        Assert.Contains($"\"Host\":\"127.0.0.1:{_server.Port}\"", body);
    }

    [Fact]
    public async Task BytesCanBeWrittenInSmallerAwaitedWrites()
    {
        using var client = _server.CreateClient();
        var body = await client.GetByteArrayAsync("/bytes/100000?chunk=4096");
        Assert.Equal(100000, body.Length);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await client.GetAsync("/bytes/10?chunk=0")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await client.GetAsync("/bytes/10?chunk=1000000")).StatusCode);
    }

    [Fact]
    public async Task KeepAliveReusesTheConnection()
    {
        await using var connection = await _server.ConnectAsync();
        for (int i = 0; i < 3; i++)
        {
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
            var response = await connection.ReadResponseAsync();
            Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
            Assert.Equal("Hello, World!", response.BodyText);
            Assert.False(response.HasConnectionClose);
        }
    }

    [Fact]
    public async Task TenPipelinedRequestsInOneWriteAreAnsweredInOrder()
    {
        await using var connection = await _server.ConnectAsync();
        var requests = new StringBuilder();
        for (int i = 1; i <= 10; i++)
        {
            requests.Append($"GET /bytes/{i * 7} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }
        await connection.SendAsync(requests.ToString());
        for (int i = 1; i <= 10; i++)
        {
            var response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Equal(i * 7, response.Body.Length);
        }
    }

    [Fact]
    public async Task ChunkedRequestBodyIsStreamedToTheAppAndEchoedChunked()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync(
            "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("hello world!", response.BodyText);
        Assert.Equal("text/plain", response.Header("Content-Type"));
        // No length known up front: both servers answer with chunked framing (RFC 9112 section 7.1).
        Assert.True(response.WasChunked);
        Assert.Null(response.Header("Content-Length"));
    }

    [Fact]
    public async Task ContentLengthBodyIsEchoedWithContentLength()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-test\r\nContent-Length: 11\r\n\r\nhello there");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("hello there", response.BodyText);
        Assert.Equal("11", response.Header("Content-Length"));
        Assert.Equal("application/x-test", response.Header("Content-Type"));
    }

    [Fact]
    public async Task HeadSendsHeadersWithContentLengthAndNoBody()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("HEAD /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var head = await connection.ReadResponseAsync(head: true);
        Assert.Equal(200, head.StatusCode);
        Assert.Equal("13", head.Header("Content-Length"));

        // Had any body byte been sent, this response would not parse.
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var get = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", get.StatusLine);
        Assert.Equal("Hello, World!", get.BodyText);
    }

    [Fact]
    public async Task ExpectContinueGets100OnlyWhenTheAppReadsTheBody()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        var interim = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 100 Continue", interim.StatusLine);
        await connection.SendAsync("abcde");
        var final = await connection.ReadResponseAsync();
        Assert.Equal(200, final.StatusCode);
        Assert.Equal("abcde", final.BodyText);

        // An endpoint that never reads the body answers without 100 Continue.
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        var direct = await connection.ReadResponseAsync();
        Assert.Equal(200, direct.StatusCode);
        Assert.Equal("Hello, World!", direct.BodyText);
    }

    [Fact]
    public async Task Http10RequestGetsItsResponseAndTheConnectionCloses()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.0\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("Hello, World!", response.BodyText);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Http10KeepAliveKeepsTheConnection()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", first.BodyText);
        Assert.Equal("keep-alive", first.Header("Connection"), ignoreCase: true);
        await connection.SendAsync("GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var second = await connection.ReadResponseAsync();
        Assert.Equal(200, second.StatusCode);
    }

    [Fact]
    public async Task Http10ResponseWithoutLengthIsCloseDelimited()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nxyz");
        var echoed = await connection.ReadResponseAsync();
        Assert.Equal("xyz", echoed.BodyText);

        // /headers writes JSON with no Content-Length: an HTTP/1.0 client cannot take chunked.
        await connection.SendAsync("GET /headers HTTP/1.0\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.False(response.WasChunked);
        Assert.StartsWith("{", response.BodyText);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task ConnectionCloseIsHonoured()
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", response.BodyText);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task UnreadRequestBodyIsDrainedBeforeTheNextRequest()
    {
        await using var connection = await _server.ConnectAsync();
        // /plaintext never reads its body; the server must skip it to find the next request.
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789" +
                                   "GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
        Assert.Contains("Hello", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task WebSocketEchoes()
    {
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_server.Port}/ws"), timeout.Token);
        // An empty message too: the sample waits for each message with a zero-byte receive, which
        // an empty frame satisfies on its own.
        foreach (string message in new[] { "hello", new string('x', 40_000), "", "bye" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
            var buffer = new byte[64 * 1024];
            int total = 0;
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(total), timeout.Token);
                total += received.Count;
                if (received.EndOfMessage)
                {
                    break;
                }
            }
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, total));
        }
        // A binary message in two fragments (RFC 6455 section 5.4) comes back whole, as binary.
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, false, timeout.Token);
        await socket.SendAsync(new byte[] { 4, 5 }, WebSocketMessageType.Binary, true, timeout.Token);
        var echoed = new byte[16];
        int length = 0;
        while (true)
        {
            var received = await socket.ReceiveAsync(echoed.AsMemory(length), timeout.Token);
            Assert.Equal(WebSocketMessageType.Binary, received.MessageType);
            length += received.Count;
            if (received.EndOfMessage)
            {
                break;
            }
        }
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, echoed[..length]);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task IndexPageLinksTheEndpoints()
    {
        using var client = _server.CreateClient();
        string html = await client.GetStringAsync("/");
        foreach (string endpoint in new[] { "/plaintext", "/json", "/cached", "/echo", "/headers", "/bytes/", "/ws" })
        {
            Assert.Contains(endpoint, html);
        }
    }
}

public sealed class HttpSysLiteSampleEndpointTests : SampleEndpointTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelSampleEndpointTests : SampleEndpointTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine), which Linux otherwise never runs.</summary>
public sealed class SocketEngineSampleEndpointTests : SampleEndpointTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverSampleEndpointTests : SampleEndpointTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
