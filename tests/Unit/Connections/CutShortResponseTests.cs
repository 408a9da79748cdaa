using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>
/// A response that cannot be finished once part of it is out ends with a reset, never a FIN that would
/// make it look whole (RFC 9112 section 8); a response that was finished never ends with one.
/// </summary>
public sealed class CutShortResponseTests
{
    [Fact]
    public async Task AnAbortAfterTheHeadIsAReset()
    {
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            context.Response.ContentLength = 100;
            await context.Response.WriteAsync("part");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await Assert.ThrowsAnyAsync<IOException>(() => client.ReadResponseAsync());
        await InMemoryServer.WaitUntilAsync(() => client.WasReset, "the cut-short response did not end with a reset");
    }

    /// <summary>HTTP/1.0 has no chunked coding: the body is close-delimited, so a FIN would end it as if whole.</summary>
    [Fact]
    public async Task AnExceptionInACloseDelimitedBodyIsAReset()
    {
        var headSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            await context.Response.WriteAsync("part");
            await context.Response.Body.FlushAsync();
            await headSent.Task.WaitAsync(InMemoryClient.DefaultTimeout);
            throw new InvalidOperationException("boom");
        });
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
        headSent.TrySetResult();
        await client.ReadToEndAsync(new CancellationTokenSource(InMemoryClient.DefaultTimeout).Token);
        Assert.True(client.WasReset, "the close-delimited body ended with a FIN, as if whole");
    }

    [Fact]
    public async Task AWholeResponseFollowedByACloseIsNoReset()
    {
        await using var server = await InMemoryServer.StartAsync(context => context.Response.WriteAsync("whole"));
        var client = server.Connect();
        await client.SendAsync("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
        Assert.Equal("whole", (await client.ReadResponseAsync()).BodyText);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.False(client.WasReset);
    }
}
