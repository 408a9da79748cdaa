using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>Start and stop: graceful drain, abort past the deadline, idempotence. On both servers.</summary>
public abstract class LifecycleTests
{
    protected abstract ServerKind Kind { get; }

    [Fact]
    public async Task GracefulStopLetsTheRequestInFlightFinishThenRefusesConnections()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await TestServer.StartAsync(Kind, app => app.MapGet("/slow", async context =>
        {
            entered.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("finished");
        }));

        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stopping = server.App.StopAsync(deadline.Token);
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted); // it waits for the request
        release.SetResult();

        var response = await connection.ReadResponseAsync();
        Assert.Equal("finished", response.BodyText);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await connection.IsClosedByServerAsync());

        await Assert.ThrowsAnyAsync<SocketException>(() => RawConnection.ConnectAsync(server.EndPoint));
        await server.App.DisposeAsync();
    }

    [Fact]
    public async Task StopPastItsDeadlineAbortsTheRequestsLeft()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await TestServer.StartAsync(Kind, app => app.MapGet("/stuck", async context =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { });
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /stuck HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await server.App.StopAsync(deadline.Token).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await connection.IsClosedByServerAsync());
        await server.App.DisposeAsync();
    }

    [Fact]
    public async Task ABurstOfConnectionsIsAllAcceptedAndServed()
    {
        // All connect before any sends: the listener's backlog holds many at once, which the epoll
        // listener drains one accept per event; each then gets its own request and response.
        const int count = 100;
        var server = await TestServer.StartSampleAsync(Kind);
        var connecting = new Task<RawConnection>[count];
        for (int i = 0; i < count; i++)
        {
            connecting[i] = RawConnection.ConnectAsync(server.EndPoint);
        }
        var connections = await Task.WhenAll(connecting);
        try
        {
            await Task.WhenAll(connections.Select(c => c.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")));
            var responses = await Task.WhenAll(connections.Select(c => c.ReadResponseAsync()));
            Assert.All(responses, r => Assert.Equal("Hello, World!", r.BodyText));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Heads that complete while the server stops are answered (normally, or 503 with Connection: close),
    /// never 400: the connections were live and the requests valid. Each connection has been used once, so
    /// it is an established keep-alive connection, then sends a head without its last CRLF, the host
    /// stops, and the CRLF follows.
    /// </summary>
    [Fact]
    public async Task HeadsThatCompleteWhileTheServerStopsAreNeverAnswered400()
    {
        const int Connections = 20;
        var server = await TestServer.StartSampleAsync(Kind);
        var connections = new List<RawConnection>();
        for (int i = 0; i < Connections; i++)
        {
            var connection = await server.ConnectAsync();
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            connections.Add(connection);
        }
        await Task.Delay(100); // the partial heads are read before the stop begins
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stopping = server.App.StopAsync(deadline.Token);
        await Task.Delay(50);
        var statuses = new List<int>();
        foreach (var connection in connections)
        {
            try
            {
                await connection.SendAsync("\r\n");
                var response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20));
                statuses.Add(response.StatusCode);
                if (response.StatusCode == 503)
                {
                    Assert.True(response.HasConnectionClose, "a 503 while stopping says Connection: close");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                statuses.Add(0); // closed without an answer: not a 400, but counted
            }
        }
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
        await server.App.DisposeAsync();
        Assert.DoesNotContain(400, statuses);
        Assert.All(statuses, status => Assert.True(status is 200 or 503, $"answers: {string.Join(", ", statuses)}"));
    }

    [Fact]
    public async Task StopIsIdempotent()
    {
        var server = await TestServer.StartSampleAsync(Kind);
        await server.Server.StopAsync(CancellationToken.None);
        await server.Server.StopAsync(CancellationToken.None);
        await server.DisposeAsync();
    }
}

public sealed class HttpSysLiteLifecycleTests : LifecycleTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    /// <summary>
    /// HttpSysLite only, a deliberate difference: while it drains, a request arriving on an open
    /// keep-alive connection is answered 503 with Connection: close (HTTP.sys's answer for a queue
    /// that is going away); Kestrel closes idle connections when stop begins instead.
    /// </summary>
    [Fact]
    public async Task RequestArrivingWhileStoppingGets503()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await TestServer.StartAsync(Kind, app =>
        {
            app.MapGet("/slow", async context =>
            {
                entered.TrySetResult();
                await release.Task;
            });
            app.MapGet("/fast", () => "fast");
        });
        await using var busy = await server.ConnectAsync();
        await using var idle = await server.ConnectAsync();
        await idle.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal("fast", (await idle.ReadResponseAsync()).BodyText);

        await busy.SendAsync("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var stopping = server.App.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await Task.Delay(100);

        await idle.SendAsync("GET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var refused = await idle.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 503 Service Unavailable", refused.StatusLine);
        Assert.True(refused.HasConnectionClose);
        Assert.True(await idle.IsClosedByServerAsync());

        release.SetResult();
        Assert.Equal(200, (await busy.ReadResponseAsync()).StatusCode);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        await server.App.DisposeAsync();
    }

    [Fact]
    public async Task InvalidPrefixFailsAtStartNamingTheOption()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(Kind, static _ => { }, url: "http://+:99999/"));
        Assert.Contains("UrlPrefixes", ex.Message);
        Assert.Contains("not a number from 1 to 65535", ex.Message);
    }
}

public sealed class KestrelLifecycleTests : LifecycleTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine), which Linux otherwise never runs.</summary>
public sealed class SocketEngineLifecycleTests : LifecycleTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}
