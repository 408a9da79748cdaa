using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Unit.Server;

/// <summary>
/// IHttpRequestTrailersFeature over the in-memory transport: the driver's trailer fields reach the app
/// as data once the body is read, belong to their request alone, and the feature's lookup allocates
/// nothing.
/// </summary>
public sealed class RequestTrailersFeatureTests
{
    private const string WithTrailers = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Sum: 2\r\nX-Other: o\r\n\r\n";

    /// <summary>An app that reads the body (unless ?skip) and answers with what the feature showed before and after.</summary>
    private static Task<InMemoryServer> StartAsync() => InMemoryServer.StartAsync(async context =>
    {
        var feature = context.Features.Get<IHttpRequestTrailersFeature>()!;
        bool before = feature.Available;
        if (!context.Request.Query.ContainsKey("skip"))
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
        }
        string after = feature.Available
            ? string.Join(";", feature.Trailers.Select(t => $"{t.Key}={t.Value}"))
            : "unavailable";
        await context.Response.WriteAsync($"{before}|{feature.Available}|{after}");
    });

    [Fact]
    public async Task TrailersArriveWhenTheBodyEndsAndBelongToTheirRequestOnly()
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync(WithTrailers);
        Assert.Equal("False|True|X-Sum=1,2;X-Other=o", (await client.ReadResponseAsync()).BodyText);

        // The same connection: a chunked body without trailers, a Content-Length body, no body at all.
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
        Assert.Equal("False|True|", (await client.ReadResponseAsync()).BodyText);
        await client.SendAsync(WithTrailers);
        Assert.Equal("False|True|X-Sum=1,2;X-Other=o", (await client.ReadResponseAsync()).BodyText);
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nz");
        Assert.Equal("False|True|", (await client.ReadResponseAsync()).BodyText);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("True|True|", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task TrailersOfABodyTheAppNeverReadAreNotTheNextRequests()
    {
        await using var server = await StartAsync();
        await using var client = server.Connect();
        await client.SendAsync(WithTrailers.Replace("POST / ", "POST /?skip "));
        Assert.Equal("False|False|unavailable", (await client.ReadResponseAsync()).BodyText);
        // The connection drained that body, trailers and all; the next request starts clean.
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
        Assert.Equal("False|True|", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task ABadTrailerFailsTheBodyReadAndTheTrailersStayUnavailable()
    {
        string? outcome = null;
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            var feature = context.Features.Get<IHttpRequestTrailersFeature>()!;
            var error = await Record.ExceptionAsync(() => context.Request.Body.CopyToAsync(Stream.Null));
            outcome = $"{error is BadHttpRequestException} {feature.Available} {Record.Exception(() => feature.Trailers)?.GetType().Name}";
            throw error!;
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-Good: 1\r\nBad Name: 2\r\n\r\n");
        Assert.Equal(400, (await client.ReadResponseAsync()).StatusCode);
        Assert.Equal("True False InvalidOperationException", outcome);
    }

    [Fact]
    public async Task LookingTheFeatureUpAndReadingItAgainAllocatesNothing()
    {
        long allocated = -1;
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            var features = context.Features;
            _ = features.Get<IHttpRequestTrailersFeature>()!.Trailers; // the first look copies the fields once
            long start = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                var feature = features.Get<IHttpRequestTrailersFeature>()!;
                _ = features[typeof(IHttpRequestTrailersFeature)];
                _ = feature.Available;
                _ = feature.Trailers["X-Sum"];
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        });
        await using var client = server.Connect();
        await client.SendAsync(WithTrailers);
        Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
        Assert.Equal(0, allocated);
    }
}
