using System.Buffers;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Service;
using Microsoft.Extensions.Time.Testing;

namespace HttpSysLite.Tests.Unit.Service;

/// <summary>A delivered request's head, written as a channel frame's payload and read back on the app's side.</summary>
public sealed class RequestHeadMessageTests
{
    /// <summary>Takes each delivered request's head as the driver would send it, then aborts the request.</summary>
    private sealed class CapturingHandler : IRequestQueueHandler
    {
        public readonly TaskCompletionSource<(byte[] Payload, ulong RequestId, ulong ConnectionId)> Captured = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask ProcessRequestAsync(RequestContext context)
        {
            var output = new ArrayBufferWriter<byte>();
            RequestHeadMessage.Write(output, context);
            Captured.TrySetResult((output.WrittenSpan.ToArray(), context.RequestId, context.ConnectionId));
            context.Abort();
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<(byte[] Payload, ulong RequestId, ulong ConnectionId)> CaptureAsync(string request)
    {
        var transport = new InMemoryTransportFactory();
        using var driver = new HttpDriver(transport, new FakeTimeProvider());
        var handler = new CapturingHandler();
        var queue = driver.OpenRequestQueue(null, RequestQueueMode.Create, handler, out _);
        using var group = new UrlGroup(driver, queue);
        var prefix = group.AddPrefix(UrlPrefix.Create("http://+:0/app/"));
        await using var client = transport.Connect(prefix.Port);
        await client.SendAsync(request);
        return await handler.Captured.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AHeadReadsBackAsTheDriverSawIt()
    {
        var (payload, requestId, connectionId) = await CaptureAsync(
            "POST /app/a%20b/c?x=1&y=%C3%A9 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Custom: caf\u00e9 \u00ff\r\n\r\n");
        var head = new RequestHead();
        RequestHeadMessage.Read(payload, head);

        Assert.Equal(requestId, head.RequestId);
        Assert.Equal(connectionId, head.ConnectionId);
        Assert.Same(KnownMethods.Post, head.Method); // interned, as the parser interns it
        Assert.Equal("/app/a%20b/c?x=1&y=%C3%A9", head.RawTarget);
        Assert.Equal("/app", head.PathBase);
        Assert.Equal("/a b/c", head.Path);
        Assert.Equal("?x=1&y=%C3%A9", head.QueryString);
        Assert.Equal(HttpVersion.Http11, head.Version);
        Assert.Equal(5, head.ContentLength);
        Assert.False(head.IsChunked);
        Assert.True(head.ExpectContinue);
        Assert.False(head.IsHttps);
        Assert.Equal(4, head.Headers.Count);
        Assert.Same(KnownHeaders.Host, head.Headers.NameAt(0));
        Assert.Equal("example.test", head.Headers.Get("Host"));
        // The field's bytes as received: Latin-1 on the wire, UTF-8 or Latin-1 when the app decodes.
        Assert.Equal("caf\u00e9 \u00ff", head.Headers.Get("X-Custom"));
        Assert.True(head.Headers.HasNonAsciiValues);
        Assert.NotEqual(0, head.RemoteEndPoint.Port);
    }

    [Fact]
    public async Task AReusedHeadHoldsOnlyTheNextRequest()
    {
        var (first, _, _) = await CaptureAsync("GET /app/one HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nX-Two: 2\r\n\r\n");
        var (second, _, _) = await CaptureAsync("GET /app/two HTTP/1.0\r\nX-Only: 1\r\n\r\n");
        var head = new RequestHead();
        RequestHeadMessage.Read(first, head);
        RequestHeadMessage.Read(second, head);
        Assert.Equal("/two", head.Path);
        Assert.Equal(HttpVersion.Http10, head.Version);
        Assert.Null(head.ContentLength);
        Assert.Equal(1, head.Headers.Count);
        Assert.Equal("1", head.Headers.Get("X-Only"));
        Assert.Null(head.Headers.Get("X-Two"));
    }

    [Fact]
    public async Task EveryTruncationOrTrailingByteIsAWireFormatError()
    {
        var (payload, _, _) = await CaptureAsync("GET /app/x HTTP/1.1\r\nHost: a\r\n\r\n");
        var head = new RequestHead();
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.Throws<WireFormatException>(() => RequestHeadMessage.Read(payload.AsSpan(0, length), head));
        }
        Assert.Throws<WireFormatException>(() => RequestHeadMessage.Read([.. payload, 0], head));
        RequestHeadMessage.Read(payload, head); // and the whole one still reads
        Assert.Equal("/x", head.Path);
    }

    [Fact]
    public void AFieldLongerThanItsFrameIsRefusedWithoutReadingPastIt()
    {
        // ids, version, flags, length, then a v4 endpoint, then a method claiming 4 GiB.
        var output = new ArrayBufferWriter<byte>();
        var writer = new WireWriter(output);
        writer.WriteUInt64(1);
        writer.WriteUInt64(2);
        writer.WriteByte(1);
        writer.WriteByte(0);
        writer.WriteInt64(0);
        writer.WriteEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 80));
        writer.WriteEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, 81));
        writer.WriteUInt32(uint.MaxValue);
        var ex = Assert.Throws<WireFormatException>(() => RequestHeadMessage.Read(output.WrittenSpan, new RequestHead()));
        Assert.Contains("4294967295 bytes", ex.Message);
    }
}
