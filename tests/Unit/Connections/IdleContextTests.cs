using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>
/// Issue 22: an idle connection holds no request state. A connection that stays silent for
/// <see cref="HttpConnection.IdleContextRelease"/> gives its request context back to the driver's pool
/// (the heartbeat does it, on the fake clock); a busy one keeps it and reuses it, allocating nothing;
/// and whatever the app kept of a released request refuses use rather than reach a later one.
/// </summary>
public sealed class IdleContextTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    private sealed class Seen
    {
        public readonly List<object> ResponseFeatures = new();
        public Stream? Body;
    }

    private static Task<InMemoryServer> StartAsync(Seen seen) => InMemoryServer.StartAsync(context =>
    {
        seen.ResponseFeatures.Add(context.Features.Get<IHttpResponseFeature>()!);
        seen.Body = context.Response.Body;
        return context.Response.WriteAsync("x");
    });

    [Fact]
    public async Task ASilentConnectionGivesItsContextBackAndItsNextRequestIsServed()
    {
        var seen = new Seen();
        await using var server = await StartAsync(seen);
        await using var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("x", System.Text.Encoding.ASCII.GetString((await client.ReadResponseAsync()).Body));
        await server.WaitForTimerAsync(TimerKind.IdleConnection); // the loop is idle now, its context parked

        server.Advance(HttpConnection.IdleContextRelease - TimeSpan.FromMilliseconds(300));
        Assert.True(await client.StaysSilentAsync(Quiet));
        Assert.Equal(0, server.Driver.Contexts.Count); // not yet: a client may still be about to send

        server.Advance(TimeSpan.FromMilliseconds(300) + Heartbeat.Period + TimeSpan.FromMilliseconds(10));
        await InMemoryServer.WaitUntilAsync(() => server.Driver.Contexts.Count == 1, "the idle connection kept its context");

        // What the app kept of the released request is ended for good.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => seen.Body!.WriteAsync(new byte[] { 1 }).AsTask());

        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        var second = await client.ReadResponseAsync();
        Assert.Equal(200, second.StatusCode);
        Assert.Equal("x", System.Text.Encoding.ASCII.GetString(second.Body));
        Assert.Equal(0, server.Driver.Contexts.Count); // the pooled driver context serves it
        Assert.NotSame(seen.ResponseFeatures[0], seen.ResponseFeatures[1]); // with server objects of its own
        Assert.True(await client.StaysSilentAsync(Quiet)); // nothing stale followed the response
    }

    [Fact]
    public async Task ABusyConnectionKeepsItsContextAcrossRequests()
    {
        var seen = new Seen();
        await using var server = await StartAsync(seen);
        await using var client = server.Connect();
        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
            server.Advance(HttpConnection.IdleContextRelease / 4); // a quarter of the release time between requests
        }
        Assert.Equal(3, seen.ResponseFeatures.Count);
        Assert.Same(seen.ResponseFeatures[0], seen.ResponseFeatures[1]);
        Assert.Same(seen.ResponseFeatures[1], seen.ResponseFeatures[2]);
        Assert.Equal(0, server.Driver.Contexts.Count);
    }

    [Fact]
    public async Task AConnectionThatEndsCleanlyGivesItsContextBackEnded()
    {
        var seen = new Seen();
        await using var server = await StartAsync(seen);
        await using (var client = server.Connect())
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).StatusCode);
            await client.CloseSendAsync(); // the client's FIN: the connection ends cleanly
            Assert.True(await client.IsClosedByServerAsync());
        }
        await InMemoryServer.WaitUntilAsync(() => server.Driver.Connections.Count == 0, "the connection did not end");
        // A clean end gives the context back, ended on the server's side.
        Assert.Equal(1, server.Driver.Contexts.Count);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => seen.Body!.WriteAsync(new byte[] { 1 }).AsTask());
    }
}
