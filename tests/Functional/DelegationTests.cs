using System.Net;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.HttpSys;
using Microsoft.Extensions.DependencyInjection;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Request delegation (HttpDelegateRequestEx), with HttpSys's own feature types: a front server takes
/// every request on a port and hands some, whole and unread, to another request queue's prefix, whose
/// server answers. In one process with the in-process driver, and across processes through the driver.
/// </summary>
public sealed class DelegationTests
{
    /// <summary>
    /// The front app: "+" (strong wildcard) takes the whole port; /hand-off/... goes to the queue
    /// <paramref name="queue"/> at <paramref name="destination"/>, whose host-specific prefix never gets
    /// a request of its own (the strong wildcard wins), and so does any request with an X-Hand-Off field.
    /// Others answer "front".
    /// </summary>
    private static Task<TestServer> StartFrontAsync(int port, string queue, string destination, string? driverSocket = null, List<string>? outcomes = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            DelegationRule? rule = null;
            app.Run(async context =>
            {
                if (!context.Request.Path.StartsWithSegments("/hand-off") && !context.Request.Headers.ContainsKey("X-Hand-Off"))
                {
                    await context.Response.WriteAsync("front");
                    return;
                }
                var delegation = context.Features.Get<IHttpSysRequestDelegationFeature>()!;
                rule ??= context.RequestServices.GetRequiredService<IServer>().Features.Get<IServerDelegationFeature>()!.CreateDelegationRule(queue, destination);
                if (context.Request.Query.ContainsKey("read-first"))
                {
                    await context.Request.Body.ReadExactlyAsync(new byte[1]);
                }
                if (!delegation.CanDelegate)
                {
                    var refused = Record.Exception(() => delegation.DelegateRequest(rule));
                    outcomes?.Add($"refused: {refused?.GetType().Name}");
                    await context.Response.WriteAsync("front kept it");
                    return;
                }
                delegation.DelegateRequest(rule);
                var write = await Record.ExceptionAsync(() => context.Response.WriteAsync("too late"));
                outcomes?.Add($"write after delegating: {write?.GetType().Name}");
            });
        }, o =>
        {
            o.DriverSocket = driverSocket;
            o.UrlPrefixes.Add($"http://+:{port}/");
        });

    /// <summary>The destination: a named queue on a host-specific prefix, echoing what it was given.</summary>
    private static Task<TestServer> StartBackAsync(int port, string queue, string? driverSocket = null) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app => app.Run(async context =>
        {
            string body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.Headers["X-Served-By"] = "back";
            await context.Response.WriteAsync($"back {context.Request.Method} {context.Request.PathBase}|{context.Request.Path}{context.Request.QueryString} body={body}");
        }), o =>
        {
            o.DriverSocket = driverSocket;
            o.RequestQueueName = queue;
            o.UrlPrefixes.Add($"http://localhost:{port}/");
        });

    [Fact]
    public async Task ADelegatedRequestIsServedWholeByTheOtherQueuesServer()
    {
        int port = TlsClient.FreePort();
        string queue = $"delegation-{Guid.NewGuid():n}";
        var outcomes = new List<string>();
        await using var back = await StartBackAsync(port, queue);
        await using var front = await StartFrontAsync(port, queue, $"http://localhost:{port}/", outcomes: outcomes);
        await using var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        // One keep-alive connection: the front's own answer, a delegated POST with its body, the front again.
        await connection.SendAsync("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal("front", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("POST /hand-off/y?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
        var delegated = await connection.ReadResponseAsync();
        Assert.Equal(200, delegated.StatusCode);
        Assert.Equal("back POST |/hand-off/y?q=1 body=hello", delegated.BodyText);
        Assert.Equal("back", delegated.Header("X-Served-By"));
        await connection.SendAsync("GET /z HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal("front", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal(["write after delegating: InvalidOperationException"], outcomes);
    }

    [Fact]
    public async Task ARequestWhoseBodyWasReadCannotBeDelegated()
    {
        int port = TlsClient.FreePort();
        string queue = $"delegation-{Guid.NewGuid():n}";
        var outcomes = new List<string>();
        await using var back = await StartBackAsync(port, queue);
        await using var front = await StartFrontAsync(port, queue, $"http://localhost:{port}/", outcomes: outcomes);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var response = await client.PostAsync("hand-off?read-first=1", new StringContent("abc"));
        Assert.Equal("front kept it", await response.Content.ReadAsStringAsync());
        Assert.Equal(["refused: InvalidOperationException"], outcomes);
    }

    [Fact]
    public async Task ARuleForAQueueThatDoesNotExistIsRefusedNamingIt()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, _ => { });
        var feature = server.Server.Features.Get<IServerDelegationFeature>()!;
        var missing = Assert.Throws<InvalidOperationException>(() => feature.CreateDelegationRule("no-such-queue", "http://localhost:5000/"));
        Assert.Contains("'no-such-queue'", missing.Message);
        Assert.Throws<ArgumentException>(() => feature.CreateDelegationRule("q", "not a prefix"));
    }

    [Fact]
    public async Task ARequestIsDelegatedFromOneAppProcessToAnotherThroughTheDriver()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = TlsClient.FreePort();
        // The destination is the sample, a process of its own, on the named queue "back".
        await using var sample = await SampleProcess.StartAsync(
            $"--driver \"{driver.Socket}\" --urls http://localhost:{port}/ --HttpSysLite:RequestQueueName=back");
        var outcomes = new List<string>();
        await using var front = await StartFrontAsync(port, "back", $"http://localhost:{port}/", driver.Socket, outcomes);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("front", await client.GetStringAsync("x"));
        // /hand-off/... is not a sample path: its 404 shows the sample got it, path and all.
        using (var notFound = await client.GetAsync("hand-off/nothing"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }
        using var echo = new HttpRequestMessage(HttpMethod.Post, "echo") { Content = new StringContent("crossed twice") };
        echo.Headers.Add("X-Hand-Off", "1");
        using var echoed = await client.SendAsync(echo);
        Assert.Equal("crossed twice", await echoed.Content.ReadAsStringAsync());
        Assert.Equal("front", await client.GetStringAsync("y"));
        Assert.Contains("write after delegating: InvalidOperationException", outcomes);
    }

    [Fact]
    public async Task ADelegationToAMissingQueueThroughTheDriverIsAnswered503AndLogged()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = TlsClient.FreePort();
        await using var front = await StartFrontAsync(port, "nobody", $"http://localhost:{port}/", driver.Socket);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var response = await client.GetAsync("hand-off/x");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!driver.Output.Any(line => line.Contains("'nobody'", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Contains(driver.Output, line => line.Contains("'nobody'", StringComparison.Ordinal) && line.Contains("503", StringComparison.Ordinal));
    }
}
