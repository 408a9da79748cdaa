using System.Net.Sockets;
using System.Text;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// 50 MiB up through /echo and 50 MiB down from /bytes, streamed. Memory stays bounded: the process
/// allocates far less than it moves, so no body is ever held whole. These tests run alone (not in
/// parallel) so the allocation count is theirs.
/// </summary>
[CollectionDefinition(nameof(LargeTransferCollection), DisableParallelization = true)]
public sealed class LargeTransferCollection
{
}

[Collection(nameof(LargeTransferCollection))]
public abstract class LargeTransferTests : IAsyncLifetime
{
    private const int Size = 50 * 1024 * 1024;

    /// <summary>Allocated bytes allowed for 50 MiB each way: a fifth of what a buffered body would need alone.</summary>
    private const long AllocationBudget = 10 * 1024 * 1024;

    private TestServer _server = null!;

    protected abstract ServerKind Kind { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartSampleAsync(Kind);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task FiftyMebibyteUploadIsEchoedWhileStreaming()
    {
        // Warm up so JIT and first-use allocations do not count.
        await EchoAsync(64 * 1024);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await EchoAsync(Size);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < AllocationBudget, $"moving {Size:N0} bytes each way allocated {allocated:N0} bytes");
    }

    [Fact]
    public async Task FiftyMebibyteDownloadIsStreamed()
    {
        await DownloadAsync(64 * 1024);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await DownloadAsync(Size);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < AllocationBudget, $"downloading {Size:N0} bytes allocated {allocated:N0} bytes");
    }

    private async Task EchoAsync(int size)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.EndPoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        byte[] head = Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None, timeout.Token);

        // Send and receive at once: the server must stream, or both sides would stall on full buffers.
        var sending = Task.Run(async () =>
        {
            byte[] chunk = Pattern(64 * 1024);
            for (int sent = 0; sent < size;)
            {
                int length = Math.Min(chunk.Length, size - sent);
                sent += await socket.SendAsync(chunk.AsMemory(0, length), SocketFlags.None, timeout.Token);
            }
        });
        long bodyBytes = await ReceiveAndCheckAsync(socket, size, timeout.Token);
        await sending;
        Assert.Equal(size, bodyBytes);
    }

    private async Task DownloadAsync(int size)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.EndPoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /bytes/{size} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), SocketFlags.None, timeout.Token);
        Assert.Equal(size, await ReceiveAndCheckAsync(socket, size, timeout.Token));
    }

    /// <summary>Reads a Content-Length response with a reused buffer, checking the a..z pattern of every body byte.</summary>
    private static async Task<long> ReceiveAndCheckAsync(Socket socket, int size, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        int headEnd = -1;
        while (headEnd < 0)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            Assert.True(read > 0, "closed before the response head");
            filled += read;
            headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
        }
        string head = Encoding.ASCII.GetString(buffer, 0, headEnd);
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Contains($"Content-Length: {size}", head, StringComparison.OrdinalIgnoreCase);

        long body = 0;
        void Check(ReadOnlySpan<byte> data)
        {
            for (int i = 0; i < data.Length; i++)
            {
                if (data[i] != (byte)('a' + ((body + i) % (16 * 1024) % 26)))
                {
                    Assert.Fail($"body byte {body + i} is wrong");
                }
            }
            body += data.Length;
        }
        Check(buffer.AsSpan(headEnd + 4, filled - headEnd - 4));
        while (body < size)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                break;
            }
            Check(buffer.AsSpan(0, read));
        }
        return body;
    }

    /// <summary>The same a..z pattern /bytes sends, repeating every 16 KiB.</summary>
    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)('a' + (i % (16 * 1024) % 26));
        }
        return bytes;
    }
}

public sealed class HttpSysLiteLargeTransferTests : LargeTransferTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelLargeTransferTests : LargeTransferTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine), which Linux otherwise never runs.</summary>
public sealed class SocketEngineLargeTransferTests : LargeTransferTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverLargeTransferTests : LargeTransferTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
