using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The events of one request the app can hook: RequestAborted when the client goes away, OnStarting
/// before the head and OnCompleted after the response. Each test runs on HttpSysLite and on Kestrel;
/// the two must agree.
/// </summary>
public abstract class RequestLifetimeTests
{
    protected abstract ServerKind Kind { get; }

    [Fact]
    public async Task AClientResetFiresRequestAborted()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/wait", async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { });
        }));

        var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        connection.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // the close sends RST
        await connection.DisposeAsync();
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A client that closes its socket (a FIN) while the app waits. On the wire that is a half-close, after
    /// which a client may still read (RFC 9112 section 9.6), so HttpSysLite goes on with the request; the
    /// closed client's stack answers the response's first bytes with a reset, and RequestAborted fires
    /// then. Kestrel takes the FIN itself for the client leaving. Either way an app that writes learns it.
    /// </summary>
    [Fact]
    public async Task AClientCloseFiresRequestAbortedByTheAppsNextWritesAtTheLatest()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/tick", async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            entered.TrySetResult();
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            for (int i = 0; i < 200 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.WriteAsync("tick\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(50);
            }
        }));

        var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /tick HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await connection.DisposeAsync();
        await Task.Delay(100); // the FIN reaches the server before the app writes
        closed.TrySetResult();
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task OnStartingRunsBeforeTheHeadAndOnCompletedAfterTheResponseLastRegisteredFirst()
    {
        var order = new List<string>();
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Kind, app => app.MapGet("/callbacks", async context =>
        {
            context.Response.OnStarting(() => { order.Add("starting-1"); context.Response.Headers["X-First"] = "1"; return Task.CompletedTask; });
            context.Response.OnStarting(() => { order.Add("starting-2"); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { order.Add("completed-1"); completed.TrySetResult(); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { order.Add("completed-2"); return Task.CompletedTask; });
            await context.Response.WriteAsync("body");
            order.Add("written");
        }));
        using var client = server.CreateClient();
        var response = await client.GetAsync("/callbacks");
        Assert.Equal("1", response.Headers.GetValues("X-First").Single());
        await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["starting-2", "starting-1", "written", "completed-2", "completed-1"], order);
    }
}

public sealed class HttpSysLiteRequestLifetimeTests : RequestLifetimeTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelRequestLifetimeTests : RequestLifetimeTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

public sealed class HttpSysLiteSocketEngineRequestLifetimeTests : RequestLifetimeTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverRequestLifetimeTests : RequestLifetimeTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
