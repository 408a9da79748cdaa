using System.Diagnostics;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Slowloris: 500 connections trickling a request head a byte at a time neither stop a normal client
/// from being served promptly nor outlive HeaderWait. HeaderWait runs on a fake clock; the normal
/// client's promptness is real time, with a generous bound.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class SlowClientTests
{
    private const int SlowClients = 500;

    [Fact]
    public async Task FiveHundredTricklingClientsDoNotBlockANormalOneAndAreClosedAtHeaderWait()
    {
        var headerWait = TimeSpan.FromSeconds(30);
        var fake = new FakeClock();
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite,
            app => app.MapGet("/plaintext", () => "Hello, World!"), o => o.Timeouts.HeaderWait = headerWait, services: fake.Register);

        var slow = new List<Socket>();
        for (int i = 0; i < SlowClients; i++)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server.EndPoint);
            slow.Add(socket);
        }
        byte[] head = "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Slow: "u8.ToArray();
        using var stop = new CancellationTokenSource();
        var trickle = Task.Run(async () =>
        {
            // One byte per connection per round, a round every 100 ms; the head never completes.
            for (int round = 0; !stop.IsCancellationRequested; round++)
            {
                byte next = round < head.Length ? head[round] : (byte)'z';
                foreach (var socket in slow)
                {
                    try
                    {
                        socket.Send([next]);
                    }
                    catch (SocketException)
                    {
                        // Closed by the server (HeaderWait): expected.
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                }
                await Task.Delay(100);
            }
        });

        // While they trickle, a normal client is served promptly, again and again.
        await FakeClock.WaitUntilAsync(() => fake.Driver.Connections.Count(c => c.Transport.Timeouts.RequestTimer == Transport.Connections.TimerKind.HeaderWait) == SlowClients,
            "the slow connections did not all start a head");
        using (var client = server.CreateClient())
        {
            for (int i = 0; i < 10; i++)
            {
                var request = Stopwatch.StartNew();
                Assert.Equal("Hello, World!", await client.GetStringAsync("/plaintext"));
                Assert.True(request.Elapsed < TimeSpan.FromSeconds(2), $"a normal request took {request.Elapsed} among {SlowClients} slow clients");
            }
        }

        // Nothing fires before HeaderWait has passed since each head's first byte; then every slow
        // connection gets its 408 and is closed.
        fake.Advance(headerWait - TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.Equal(SlowClients, fake.Driver.Connections.Count(c => c.Transport.Timeouts.RequestTimer == Transport.Connections.TimerKind.HeaderWait && c.TimedOut == Transport.Connections.TimerKind.None));
        fake.Advance(TimeSpan.FromSeconds(1) + FakeClock.Late);
        var buffer = new byte[4096];
        int answered = 0;
        foreach (var socket in slow)
        {
            socket.ReceiveTimeout = 15_000;
            var received = new List<byte>();
            try
            {
                int read;
                while ((read = socket.Receive(buffer)) > 0)
                {
                    received.AddRange(buffer.AsSpan(0, read).ToArray());
                }
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // A reset after the answer is fine: we were still sending.
            }
            if (System.Text.Encoding.ASCII.GetString(received.ToArray()).StartsWith("HTTP/1.1 408 Request Timeout\r\n", StringComparison.Ordinal))
            {
                answered++;
            }
        }
        stop.Cancel();
        await trickle;
        foreach (var socket in slow)
        {
            socket.Dispose();
        }
        Assert.True(answered == SlowClients, $"{answered} of {SlowClients} slow connections got the 408 before the close");
    }
}
