using System.Buffers;
using System.IO.Pipelines;

namespace HttpSysLite.Transport.Connections;

/// <summary>The raw connection after a 101 response: reads and writes bytes with no HTTP framing.</summary>
internal sealed class UpgradedStream : Stream
{
    private readonly TransportConnection _transport;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;

    public UpgradedStream(TransportConnection transport)
    {
        _transport = transport;
        _input = transport.Input;
        _output = transport.Output;
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                int take = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, take).CopyTo(buffer.Span);
                _input.AdvanceTo(data.GetPosition(take));
                return take;
            }
            _input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                // The end of the stream at the client's FIN; a reset is a failure, as on a socket.
                return _transport.InputReset is { } reset ? throw new Sockets.ConnectionResetException(reset.InnerException ?? reset) : 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("The connection is closed.");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken) =>
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);

    public override void Flush() => throw new NotSupportedException("Synchronous flushes are not supported on an upgraded connection.");
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use ReadAsync.");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use WriteAsync.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
