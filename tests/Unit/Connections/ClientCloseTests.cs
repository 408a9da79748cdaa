using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>A client that ends its side (FIN) at each point of the connection loop.</summary>
public sealed class ClientCloseTests
{
    [Fact]
    public async Task AClientThatClosesBeforeSendingAnythingIsReleased()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"));
        var client = server.Connect();
        await server.SingleConnectionAsync();
        await client.CloseSendAsync();
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the connection was not released");
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task AClientThatClosesMidHeadGetsNoResponse()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("x"));
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHo");
        await client.CloseSendAsync();
        Assert.Empty(await client.ReadToEndAsync(new CancellationTokenSource(InMemoryClient.DefaultTimeout).Token));
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the connection was not released");
    }

    [Fact]
    public async Task ARequestFollowedByFinIsAnsweredThenClosed()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("answered"));
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        await client.CloseSendAsync();
        Assert.Equal("answered", (await client.ReadResponseAsync()).BodyText);
        Assert.True(await client.IsClosedByServerAsync());
        // The client finished and everything it sent was read: no linger, the connection ends at once.
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the connection lingered");
    }

    [Fact]
    public async Task AClientThatClosesMidBodyAbortsTheRequest()
    {
        var aborted = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            try
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                aborted.TrySetResult(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
            {
                aborted.TrySetResult(true);
            }
        });
        var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly some");
        await server.WaitForTimerAsync(Transport.Connections.TimerKind.EntityBody);
        await client.CloseSendAsync();
        Assert.True(await aborted.Task.WaitAsync(InMemoryClient.DefaultTimeout), "the body read completed as if whole");
    }

    /// <summary>
    /// A FIN after a keep-alive request is a half-close (RFC 9112 section 9.6): the client sends nothing
    /// more but still reads, so the response in flight is finished, awaited write by awaited write with
    /// RequestAborted passed to each, and then the connection closes cleanly.
    /// </summary>
    [Fact]
    public async Task AHalfClosedClientGetsTheWholeResponseThenAClose()
    {
        var chunk = new byte[4096];
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            context.Response.ContentLength = 200_000;
            for (int sent = 0; sent < 200_000; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, 200_000 - sent)), context.RequestAborted);
            }
        });
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await client.CloseSendAsync();
        Assert.Equal(200_000, (await client.ReadResponseAsync()).Body.Length);
        Assert.True(await client.IsClosedByServerAsync(), "no close after the client's last request");
        Assert.False(client.WasReset, "a whole response ended with a reset");
        await InMemoryServer.WaitUntilAsync(() => server.Driver.ConnectionCount == 0, "the connection was not released");
    }

    [Fact]
    public async Task AHalfCloseDoesNotAbortTheRequestInFlight()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            entered.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync(context.RequestAborted.IsCancellationRequested ? "aborted" : "answered");
        });
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await entered.Task.WaitAsync(InMemoryClient.DefaultTimeout);
        await client.CloseSendAsync();
        await Task.Delay(100); // the receive side has read the FIN
        release.TrySetResult();
        Assert.Equal("answered", (await client.ReadResponseAsync()).BodyText);
        Assert.True(await client.IsClosedByServerAsync());
    }
}
