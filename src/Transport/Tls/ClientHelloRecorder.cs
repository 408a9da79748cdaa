namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The stream under a TLS handshake when the port caches ClientHellos (HTTP.sys's
/// ENABLE_CACHE_CLIENT_HELLO): it hands SslStream what the socket reads and keeps a copy of the
/// first record, the ClientHello (its 5-byte header says how long it is, RFC 8446 section 5.1), then
/// only passes bytes through.
/// </summary>
internal sealed class ClientHelloRecorder(Stream inner) : Stream
{
    private const int MaxRecord = 5 + (16 * 1024) + 256; // a TLSPlaintext record, header and all
    private byte[]? _recorded = new byte[MaxRecord];
    private int _length;

    /// <summary>The ClientHello record as received, once whole; null before (or if the client sent none).</summary>
    public byte[]? ClientHello { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (_recorded is not null && read > 0)
        {
            Record(buffer.Span[..read]);
        }
        return read;
    }

    private void Record(ReadOnlySpan<byte> bytes)
    {
        int take = Math.Min(bytes.Length, _recorded!.Length - _length);
        bytes[..take].CopyTo(_recorded.AsSpan(_length));
        _length += take;
        if (_length >= 5)
        {
            int whole = 5 + (_recorded[3] << 8 | _recorded[4]);
            if (whole > MaxRecord)
            {
                _recorded = null; // not a record a client sends: nothing to keep
            }
            else if (_length >= whole)
            {
                ClientHello = _recorded[..whole];
                _recorded = null;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
