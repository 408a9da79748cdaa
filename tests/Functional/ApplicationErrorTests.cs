using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// What the server does when the app fails or produces a response it cannot send as is: an exception
/// before the response starts is a 500 with an empty body, one after it is a cut-short response, and
/// so are a body shorter than its Content-Length and a header or trailer value with a line break.
/// Each shared test runs on HttpSysLite and on Kestrel; the two must agree.
/// </summary>
public abstract class ApplicationErrorTests
{
    protected abstract ServerKind Kind { get; }

    /// <summary>A response cut short ends the stream early (FIN) or resets it; either way it never reads as whole.</summary>
    protected static async Task AssertCutShortAsync(RawConnection connection)
    {
        var ex = await Record.ExceptionAsync(() => connection.ReadResponseAsync());
        Assert.True(ex is IOException or SocketException, $"expected a cut-short response, got {ex?.GetType().Name ?? "a whole response"}");
    }

    [Fact]
    public async Task ABodyWrittenToA204IsRefusedToTheAppAndTheResponseStaysWhole()
    {
        string? refused = null;
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/empty", async context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            var error = await Record.ExceptionAsync(() => context.Response.WriteAsync("not allowed"));
            refused = error?.GetType().Name;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /empty HTTP/1.1\r\nHost: localhost\r\n\r\nGET /empty HTTP/1.1\r\nHost: localhost\r\n\r\n");
        for (int i = 0; i < 2; i++)
        {
            var response = await connection.ReadResponseAsync();
            Assert.Equal(204, response.StatusCode);
            Assert.Empty(response.Body);
        }
        // RFC 9110 section 15.3.5: a 204 has no content; the app is told, as Kestrel tells it.
        Assert.Equal("InvalidOperationException", refused);
    }

    [Fact]
    public async Task ExceptionBeforeTheResponseStartsGives500WithAnEmptyBody()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/throw", context =>
        {
            context.Response.Headers["X-Lost"] = "lost";
            throw new InvalidOperationException("boom");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 500 Internal Server Error", response.StatusLine);
        Assert.Equal("0", response.Header("Content-Length"));
        Assert.Null(response.Header("X-Lost"));
        Assert.Empty(response.Body);

        // The connection is still good.
        await connection.SendAsync("GET /throw HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task ExceptionAfterTheResponseStartedAbortsTheConnection()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/throw-late", async context =>
        {
            await context.Response.WriteAsync("partial");
            await context.Response.Body.FlushAsync();
            throw new InvalidOperationException("boom");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw-late HTTP/1.1\r\nHost: localhost\r\n\r\n");
        // The head and the first chunk arrive; the body never completes: reading it must fail.
        await AssertCutShortAsync(connection);
    }

    [Fact]
    public async Task AHeaderValueIsCheckedEachTimeItIsNotTheStringTheConnectionSentBefore()
    {
        // The same field name on one connection, first with a valid value, then with a line break.
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/value", context =>
        {
            context.Response.Headers["X-Value"] = context.Request.Query["bad"].Count > 0 ? "fine\r\nX-Forged: yes" : "fine";
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /value HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Contains(new KeyValuePair<string, string>("X-Value", "fine"), (await connection.ReadResponseAsync()).Headers);
        await connection.SendAsync("GET /value?bad HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "X-Forged");
    }

    [Fact]
    public async Task ContentLengthMismatchAbortsTheResponse()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/short", async context =>
        {
            context.Response.ContentLength = 10;
            await context.Response.WriteAsync("12345");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await AssertCutShortAsync(connection);
    }
}

public sealed class HttpSysLiteApplicationErrorTests : ApplicationErrorTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// A trailer is checked as a header is: a CR LF in its value would add a field the app never set,
    /// so the response is cut short instead (it has started; its end cannot be sent).
    /// </summary>
    [Fact]
    public async Task ATrailerWithALineBreakCutsTheResponseShortInsteadOfForgingAField()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/trailers", async context =>
        {
            context.Features.Get<IHttpResponseTrailersFeature>()!.Trailers["X-Checksum"] = "abc\r\nX-Forged: yes";
            await context.Response.WriteAsync("body");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /trailers HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await AssertCutShortAsync(connection);
    }
}

public sealed class KestrelApplicationErrorTests : ApplicationErrorTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverApplicationErrorTests : ApplicationErrorTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
