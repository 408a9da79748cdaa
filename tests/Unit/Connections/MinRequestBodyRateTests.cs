using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>
/// The minimum request-body rate (Kestrel's 240 bytes/s after a 5 s grace), on the fake clock: a body
/// trickled below it is cut with 408; one above it, or with the feature set to null, is not. Only time
/// the app spends waiting for body bytes counts.
/// </summary>
public sealed class MinRequestBodyRateTests
{
    private sealed class Reader
    {
        public int Read;
        public readonly TaskCompletionSource<int> Outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task App(HttpContext context, bool noMinimum)
        {
            if (noMinimum)
            {
                context.Features.Get<IHttpMinRequestBodyDataRateFeature>()!.MinDataRate = null;
            }
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    Interlocked.Add(ref Read, n);
                }
                Outcome.TrySetResult(200);
                await context.Response.WriteAsync("read it all");
            }
            catch (BadHttpRequestException ex)
            {
                Outcome.TrySetResult(ex.StatusCode);
                throw;
            }
        }
    }

    /// <summary>Sends <paramref name="pieces"/> of <paramref name="size"/> bytes, each after the app waited <paramref name="gap"/> for it.</summary>
    private static async Task TrickleAsync(InMemoryServer server, InMemoryClient client, Reader reader, int pieces, int size, TimeSpan gap)
    {
        int sent = 0;
        for (int i = 0; i < pieces; i++)
        {
            await InMemoryServer.WaitUntilAsync(() => Volatile.Read(ref reader.Read) == sent, "the app did not read what was sent");
            await server.WaitForTimerAsync(TimerKind.EntityBody); // the app's read waits
            server.Advance(gap);
            if (reader.Outcome.Task.IsCompleted)
            {
                return;
            }
            await client.SendAsync(new string('b', size));
            sent += size;
        }
    }

    [Fact]
    public async Task ABodyTrickledBelowTheRateIsCutWith408AfterTheGracePeriod()
    {
        var reader = new Reader();
        await using var server = await InMemoryServer.StartAsync(context => reader.App(context, noMinimum: false));
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
        // A byte a second: 4 s of waiting is inside the 5 s grace.
        await TrickleAsync(server, client, reader, pieces: 4, size: 1, gap: TimeSpan.FromSeconds(1));
        await InMemoryServer.WaitUntilAsync(() => Volatile.Read(ref reader.Read) == 4, "the app did not read the trickle");
        await server.WaitForTimerAsync(TimerKind.EntityBody);
        await server.AdvancePastDeadlineAsync(client, TimeSpan.FromSeconds(1), "the rate", early: TimeSpan.FromMilliseconds(100));
        Assert.Equal(408, await reader.Outcome.Task.WaitAsync(InMemoryClient.DefaultTimeout));
        var response = await client.ReadResponseAsync();
        Assert.Equal(408, response.StatusCode);
        Assert.True(response.HasConnectionClose);
    }

    [Fact]
    public async Task ABodyAboveTheRateIsReadWhole()
    {
        var reader = new Reader();
        await using var server = await InMemoryServer.StartAsync(context => reader.App(context, noMinimum: false));
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n");
        // 1,000 bytes a second: four times the minimum, for ten seconds.
        await TrickleAsync(server, client, reader, pieces: 10, size: 1000, gap: TimeSpan.FromSeconds(1));
        Assert.Equal(200, await reader.Outcome.Task.WaitAsync(InMemoryClient.DefaultTimeout));
        Assert.Equal("read it all", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task TheFeatureSetToNullTurnsTheMinimumOffForThatRequest()
    {
        var reader = new Reader();
        await using var server = await InMemoryServer.StartAsync(context => reader.App(context, noMinimum: true));
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n");
        // A byte every 3 s for a minute: far below 240 B/s, inside the EntityBody gap (2 minutes).
        await TrickleAsync(server, client, reader, pieces: 20, size: 1, gap: TimeSpan.FromSeconds(3));
        Assert.Equal(200, await reader.Outcome.Task.WaitAsync(InMemoryClient.DefaultTimeout));
    }

    [Fact]
    public async Task TimeTheAppSpendsNotReadingDoesNotCount()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InMemoryServer.StartAsync(async context =>
        {
            started.SetResult();
            await resume.Task; // busy elsewhere for a minute of the fake clock before it reads
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.WriteAsync("read it all");
        });
        await using var client = server.Connect();
        await client.SendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab");
        await started.Task.WaitAsync(InMemoryClient.DefaultTimeout);
        server.Advance(TimeSpan.FromSeconds(60));
        resume.SetResult();
        await server.WaitForTimerAsync(TimerKind.EntityBody);
        await client.SendAsync("c");
        Assert.Equal("read it all", (await client.ReadResponseAsync()).BodyText);
    }
}
