using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Request trailers (RFC 9112 section 7.1.2) as the app meets them through IHttpRequestTrailersFeature:
/// not available until the body is read to its end (Trailers throws until then), then the fields of the
/// trailer section, kept apart from the headers. Each shared test runs on HttpSysLite and on Kestrel.
/// </summary>
public abstract class RequestTrailersTests
{
    protected abstract ServerKind Kind { get; }

    /// <summary>
    /// The app's view, as one line: whether the feature exists, Available and Trailers before the body
    /// is read, then Available, the trailer fields and three request headers after it.
    /// </summary>
    private static async Task DescribeAsync(HttpContext context)
    {
        var feature = context.Features.Get<IHttpRequestTrailersFeature>();
        string before = feature is null ? "no feature" : $"{feature.Available} {Outcome(() => feature.Trailers.Count)}";
        await context.Request.Body.CopyToAsync(Stream.Null);
        string after = feature is null ? "" : $"{feature.Available} [{string.Join(";", feature.Trailers.OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase).Select(t => $"{t.Key}={t.Value}"))}]";
        var headers = context.Request.Headers;
        string seen = $"{before} | {after} | cl={headers.ContentLength} te={headers.TransferEncoding} host={headers.Host}";
        context.Response.Headers["X-Seen"] = seen;
        context.Response.ContentLength = 0;
    }

    private static string Outcome(Func<int> read)
    {
        try
        {
            return "count " + read();
        }
        catch (InvalidOperationException ex)
        {
            return ex.GetType().Name + ": " + ex.Message;
        }
    }

    private async Task<string?> SendAsync(params string[] requests)
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.Run(DescribeAsync));
        await using var connection = await server.ConnectAsync();
        string? last = null;
        foreach (string request in requests)
        {
            await connection.SendAsync(request);
            var response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            last = response.Header("X-Seen");
        }
        return last;
    }

    private const string NotYet = "InvalidOperationException: The request trailers are not available yet. They may not be available until the full request body is read.";

    [Fact]
    public async Task TrailersReachTheAppOnceTheChunkedBodyIsRead()
    {
        string? seen = await SendAsync("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\nx-other: 2\r\n\r\n");
        Assert.Equal($"False {NotYet} | True [X-Checksum=abc;X-Other=1,2] | cl= te=chunked host=h", seen);
    }

    [Fact]
    public async Task AChunkedBodyWithoutTrailersHasNoneOnceRead()
    {
        string? seen = await SendAsync("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
        Assert.Equal($"False {NotYet} | True [] | cl= te=chunked host=h", seen);
    }

    [Fact]
    public async Task AContentLengthBodyHasNoTrailersOnceRead()
    {
        string? seen = await SendAsync("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab");
        Assert.Equal($"False {NotYet} | True [] | cl=2 te= host=h", seen);
    }

    [Fact]
    public async Task ARequestWithoutABodyHasItsNoTrailersAtOnce()
    {
        string? seen = await SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal("True count 0 | True [] | cl= te= host=h", seen);
    }

    /// <summary>
    /// Fields a sender must not put in a trailer (RFC 9110 section 6.5.1: framing, routing) are delivered
    /// as trailers and nothing else: they are never merged into the headers (section 6.5.2), and the
    /// framing of the next request on the connection is unchanged.
    /// </summary>
    [Fact]
    public async Task FieldsNotAllowedInTrailersStayTrailersAndChangeNothing()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.Run(DescribeAsync));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n"
            + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\nHost: other\r\n\r\n"
            + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        var first = await connection.ReadResponseAsync();
        Assert.Equal($"False {NotYet} | True [Content-Length=5;Host=other;Transfer-Encoding=gzip] | cl= te=chunked host=h", first.Header("X-Seen"));
        var second = await connection.ReadResponseAsync();
        Assert.Equal("True count 0 | True [] | cl= te= host=h", second.Header("X-Seen"));
    }

    [Fact]
    public async Task TheNextRequestOnTheConnectionStartsWithoutTheLastOnesTrailers()
    {
        string? seen = await SendAsync(
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-First: 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-Second: 2\r\n\r\n");
        Assert.Equal($"False {NotYet} | True [X-Second=2] | cl= te=chunked host=h", seen);
    }

    /// <summary>The HttpRequest extensions ASP.NET Core offers for trailers work on the feature.</summary>
    [Fact]
    public async Task TheHttpRequestTrailerExtensionsWork()
    {
        string? outcome = null;
        await using var server = await TestServer.StartAsync(Kind, app => app.Run(async context =>
        {
            var request = context.Request;
            bool before = request.CheckTrailersAvailable();
            await request.Body.CopyToAsync(Stream.Null);
            outcome = $"{request.SupportsTrailers()} {before} {request.CheckTrailersAvailable()} {request.GetTrailer("X-T")}";
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: v\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        Assert.Equal("True False True v", outcome);
    }
}

public sealed class HttpSysLiteRequestTrailersTests : RequestTrailersTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// HttpSysLite only, a deliberate difference: the trailers are what the client sent, so the
    /// collection is read-only. Kestrel hands out a writable HeaderDictionary.
    /// </summary>
    [Fact]
    public async Task TheTrailerCollectionIsReadOnly()
    {
        string? outcome = null;
        await using var server = await TestServer.StartAsync(Kind, app => app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            var trailers = context.Features.Get<IHttpRequestTrailersFeature>()!.Trailers;
            var error = Record.Exception(() => trailers["X-New"] = "1");
            outcome = $"{trailers.IsReadOnly} {error?.GetType().Name} {trailers["X-T"]}";
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: v\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        Assert.Equal("True InvalidOperationException v", outcome);
    }
}

public sealed class KestrelRequestTrailersTests : RequestTrailersTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverRequestTrailersTests : RequestTrailersTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
