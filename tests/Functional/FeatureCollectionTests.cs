using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The request's feature collection: what the request features report, and what happens when the app
/// removes, replaces or mistypes a feature. Each shared test runs on HttpSysLite and on Kestrel; the
/// two must agree.
/// </summary>
public abstract class FeatureCollectionTests
{
    protected abstract ServerKind Kind { get; }

    [Fact]
    public async Task RequestFeaturesDescribeTheRequest()
    {
        int port = 0;
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/describe/{**rest}", context =>
        {
            var request = context.Request;
            var connection = context.Connection;
            return context.Response.WriteAsync(string.Join("|",
                request.Method, request.Scheme, request.Protocol, request.PathBase.Value, request.Path.Value, request.QueryString.Value,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget, connection.RemoteIpAddress, connection.LocalIpAddress,
                connection.LocalPort == port, string.IsNullOrEmpty(context.TraceIdentifier), string.IsNullOrEmpty(connection.Id)));
        }));
        port = server.Port;
        await using var raw = await server.ConnectAsync();
        await raw.SendAsync("GET /describe/a%20b/%2F/c?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await raw.ReadResponseAsync();
        Assert.Equal("GET|http|HTTP/1.1||/describe/a b/%2F/c|?x=1&y=%20|/describe/a%20b/%2F/c?x=1&y=%20|127.0.0.1|127.0.0.1|True|False|False", response.BodyText);
    }

    [Fact]
    public async Task AFeatureTheAppRemovesOrReplacesStaysSoForThatRequestOnly()
    {
        var seen = new List<string>();
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/features", context =>
        {
            var features = context.Features;
            bool hadOwn = features.Get<IHttpRequestIdentifierFeature>() is not null;
            int revision = features.Revision;
            features.Set<IHttpRequestIdentifierFeature>(null);
            bool removed = features.Get<IHttpRequestIdentifierFeature>() is null && features[typeof(IHttpRequestIdentifierFeature)] is null;
            features.Set<IHttpRequestIdentifierFeature>(new HttpRequestIdentifierFeature { TraceIdentifier = "replaced" });
            lock (seen)
            {
                seen.Add($"{hadOwn} {removed} {features.Revision != revision} {context.TraceIdentifier}");
            }
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        for (int i = 0; i < 2; i++) // the second request on the connection starts with the server's own feature again
        {
            await connection.SendAsync("GET /features HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        Assert.Equal(["True True True replaced", "True True True replaced"], seen);
    }

    [Fact]
    public async Task AFeatureOfTheWrongTypeIsRefusedWhenSetAndTheServersStays()
    {
        string? outcome = null;
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/wrong", context =>
        {
            var features = context.Features;
            var error = Record.Exception(() => features[typeof(IHttpResponseFeature)] = new object());
            outcome = $"{error?.GetType().Name} {features.Get<IHttpResponseFeature>() is not null}";
            return Task.CompletedTask;
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /wrong HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        Assert.Equal("InvalidCastException True", outcome);
    }
}

public sealed class HttpSysLiteFeatureCollectionTests : FeatureCollectionTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// HttpSysLite only, a deliberate difference: a header collection the app installs through
    /// IHttpResponseFeature.Headers is the one sent. Kestrel accepts the new collection but
    /// serialises its own, so the replacement's headers are silently lost.
    /// </summary>
    [Fact]
    public async Task AReplacedResponseHeaderCollectionIsTheOneSent()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/replaced", context =>
        {
            var feature = context.Features.Get<IHttpResponseFeature>()!;
            var replacement = new HeaderDictionary { ["X-Replaced"] = "yes" };
            feature.Headers = replacement;
            return context.Response.WriteAsync("ok");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /replaced HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("yes", response.Header("X-Replaced"));
        Assert.Equal("ok", response.BodyText);
    }

    /// <summary>
    /// HttpSysLite only: Kestrel does not support response trailers on HTTP/1.1 (its trailers feature
    /// serves HTTP/2 and HTTP/3); HttpSysLite sends them after the last chunk (RFC 9112 section 7.1.2).
    /// </summary>
    [Fact]
    public async Task TrailersFollowTheLastChunk()
    {
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/trailers", async context =>
        {
            var trailers = context.Features.Get<IHttpResponseTrailersFeature>();
            Assert.NotNull(trailers);
            trailers.Trailers["X-Checksum"] = "abc";
            await context.Response.WriteAsync("body");
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /trailers HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.True(response.WasChunked);
        Assert.Equal("body", response.BodyText);
        Assert.Equal("abc", response.Trailers.Single(t => t.Key == "X-Checksum").Value);
    }
}

public sealed class KestrelFeatureCollectionTests : FeatureCollectionTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}
