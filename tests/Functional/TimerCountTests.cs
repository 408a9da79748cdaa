using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// No connection owns a timer: the heartbeat serves every deadline and one poller every write waiting
/// on acknowledgements. Timer.ActiveCount is process-wide, so these run alone (the timing collection).
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class TimerCountTests
{
    [Fact]
    public async Task OneHeartbeatServesEveryConnectionInsteadOfATimerEach()
    {
        // The real clock and the shared driver: the heartbeat is a real timer here, and it is the only one.
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, a => a.MapGet("/plaintext", () => "Hello, World!"),
            o => o.Timeouts.IdleConnection = TimeSpan.FromSeconds(30));
        await using (var warm = await server.ConnectAsync())
        {
            await warm.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            await warm.ReadResponseAsync();
        }
        long before = Timer.ActiveCount;
        var connections = new List<RawConnection>();
        for (int i = 0; i < 300; i++)
        {
            var connection = await server.ConnectAsync();
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n");
            await connection.ReadResponseAsync();
            connections.Add(connection); // each now runs its IdleConnection timer
        }
        long after = Timer.ActiveCount;
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
        Assert.True(after - before < 30, $"{after - before} timers for 300 connections waiting on IdleConnection");
    }

    [Fact]
    public async Task UnbufferedWritesWaitingOnTheirClientsShareOneTimer()
    {
        const int Clients = 40;
        int waiting = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, a => a.Run(async context =>
        {
            var chunk = new byte[256 * 1024];
            Interlocked.Increment(ref waiting);
            try
            {
                // Unbuffered (the default): each write waits until its client has acknowledged most of it.
                for (int i = 0; i < 8 && !context.RequestAborted.IsCancellationRequested; i++)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
            await release.Task;
        }), o => o.Timeouts.MinSendBytesPerSecond = uint.MaxValue); // HttpSys: uint.MaxValue turns the timer off
        long before = Timer.ActiveCount;
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await client.ConnectAsync(server.EndPoint);
                await client.SendAsync("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray(), SocketFlags.None);
                clients.Add(client); // never read: the writes wait on acknowledgements that do not come
            }
            await FakeClock.WaitUntilAsync(() => Volatile.Read(ref waiting) == Clients && Transport.Connections.AcknowledgementPoller.Shared.Count >= Clients,
                $"not every write waited ({Transport.Connections.AcknowledgementPoller.Shared.Count} watched)");
            long after = Timer.ActiveCount;
            Assert.True(after - before < 10, $"{after - before} timers for {Clients} writes waiting on their clients");
        }
        finally
        {
            release.TrySetResult();
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
