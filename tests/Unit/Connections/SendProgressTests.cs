using System.Buffers;
using System.Net;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport;

namespace HttpSysLite.Tests.Unit.Connections;

/// <summary>What an unbuffered write waits for: the bytes flushed so far, counted once each.</summary>
public sealed class SendProgressTests
{
    [Fact]
    public async Task AFlushCancelledBeforeItCommitsIsNotCountedTwice()
    {
        var connection = new InMemoryConnection(new IPEndPoint(IPAddress.Loopback, 80), new IPEndPoint(IPAddress.Loopback, 30000),
            ConnectionSettings.Default, MillisecondClock.System);
        connection.Start();
        var reader = Task.Run(async () =>
        {
            long total = 0;
            while (true)
            {
                var result = await connection.ToClient.Reader.ReadAsync();
                total += result.Buffer.Length;
                connection.ToClient.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return total;
                }
            }
        });

        var body = new byte[200 * 1024];
        connection.Output.Write(body);
        var cancelled = await connection.FlushAsync(new CancellationToken(canceled: true)).AsTask().ContinueWith(t => t.IsCanceled);
        Assert.True(cancelled, "a flush with a cancelled token commits nothing");
        await connection.FlushAsync();
        // Every flushed byte reaches the client; an unbuffered write then waits for nothing more. Counted
        // twice, it would wait for 200 KiB that never exist.
        await connection.WhenSentAsync(0, CancellationToken.None).AsTask().WaitAsync(InMemoryClient.DefaultTimeout);
        await connection.Output.CompleteAsync();
        Assert.Equal(body.Length, await reader.WaitAsync(InMemoryClient.DefaultTimeout));
        await connection.ToServer.Writer.CompleteAsync();
        await connection.Input.CompleteAsync();
        await connection.DisposeAsync();
    }
}
