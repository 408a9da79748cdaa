using System.Net;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Running out of file descriptors is a limit, not a crash (issue 23): the sample runs as a child
/// process under RLIMIT_NOFILE 512 and is sent 2,000 connections that stay open. Before, the process
/// died ("Out of memory.": the runtime had no descriptor left to start a thread); now MaxConnections
/// defaults to the limit less a reserve, so connections beyond it are turned away and their
/// descriptors go back at once.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class DescriptorExhaustionTests
{
    [Fact]
    public async Task AServerUnderAnOpenFileLimitOf512SurvivesTwoThousandConnectionsAndServesAfterwards()
    {
        await using var sample = await SampleProcess.StartAsync("--urls http://127.0.0.1:0", openFileLimit: 512);
        Assert.Contains(sample.Output, line => line.Contains("each port admits 256 connections", StringComparison.Ordinal));
        var endPoint = new IPEndPoint(IPAddress.Loopback, sample.Port);
        var flood = new List<Socket>();
        int refused = 0;
        try
        {
            for (int i = 0; i < 2000; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.ConnectAsync(endPoint, timeout.Token);
                    flood.Add(socket);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    socket.Dispose(); // a full backlog may refuse or stall a connect: that is the kernel's answer
                    refused++;
                }
            }
            await Task.Delay(1000); // the server accepts, admits or turns away what is queued
            Assert.False(sample.HasExited, "the server died:\n" + string.Join("\n", sample.Output.TakeLast(20)));
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }

        // With the flood gone the server serves again (the admitted connections it held are closed).
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string? body = null;
        for (int attempt = 0; attempt < 50 && body is null; attempt++)
        {
            try
            {
                body = await client.GetStringAsync($"http://127.0.0.1:{sample.Port}/plaintext");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200); // still releasing the flood's connections
            }
        }
        Assert.Equal("Hello, World!", body);
        Assert.False(sample.HasExited);
    }
}
