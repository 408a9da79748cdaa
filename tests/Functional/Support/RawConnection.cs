using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// A client that sends exact bytes over a real socket and reads responses by RFC 9112 framing
/// (Content-Length, chunked, or close-delimited). Every read is bounded by a generous timeout so a
/// broken server fails the test instead of hanging it.
/// </summary>
public sealed class RawConnection : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private readonly Stream? _stream;

    private RawConnection(Socket socket) => _socket = socket;

    private RawConnection(Stream stream)
    {
        _socket = null!;
        _stream = stream;
    }

    /// <summary>Talks over a stream the caller set up (a TLS client's SslStream, say).</summary>
    public static RawConnection Over(Stream stream) => new(stream);

    private ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _stream is not null ? _stream.ReadAsync(buffer, cancellationToken) : _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public Socket Socket => _socket;

    /// <summary>Talks over a socket the caller connected (one made in another network namespace, say).</summary>
    public static RawConnection Over(Socket connected) => new(connected);

    public static async Task<RawConnection> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new RawConnection(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_stream is not null)
        {
            await _stream.WriteAsync(bytes);
            return;
        }
        while (!bytes.IsEmpty)
        {
            int sent = await _socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Reads one whole response. For a HEAD request pass <paramref name="head"/> so no body is expected.</summary>
    public async Task<RawResponse> ReadResponseAsync(bool head = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        string statusLine = await ReadLineAsync(cts.Token) ?? throw new IOException("The connection closed before a response.");
        var parts = statusLine.Split(' ', 3);
        int status = int.Parse(parts[1]);
        var headers = await ReadFieldsAsync(cts.Token);
        var response = new List<byte>();
        bool chunked = false;
        var trailers = new List<KeyValuePair<string, string>>();
        string? te = headers.FirstOrDefault(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Value;
        string? cl = headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (head || status is 204 or 304 || (status >= 100 && status < 200))
        {
            // no body
        }
        else if (te is not null && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            chunked = true;
            while (true)
            {
                string sizeLine = await ReadLineAsync(cts.Token) ?? throw new IOException("Closed inside a chunked body.");
                int size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    trailers = await ReadFieldsAsync(cts.Token);
                    break;
                }
                response.AddRange(await ReadExactlyAsync(size, cts.Token));
                string? crlf = await ReadLineAsync(cts.Token);
                if (crlf != string.Empty)
                {
                    throw new IOException("Chunk data not followed by CRLF.");
                }
            }
        }
        else if (cl is not null)
        {
            response.AddRange(await ReadExactlyAsync(int.Parse(cl), cts.Token));
        }
        else
        {
            response.AddRange(await ReadToEndAsync(cts.Token));
        }
        return new RawResponse { StatusLine = statusLine, StatusCode = status, Headers = headers, Body = response.ToArray(), WasChunked = chunked, Trailers = trailers };
    }

    /// <summary>True when the server closed the connection (FIN or reset) within the timeout, having sent nothing more.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan? timeout = null)
    {
        if (_end > _start)
        {
            return false;
        }
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            int read = await ReceiveAsync(_buffer, cts.Token);
            return read == 0;
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return true;
        }
        catch (OperationCanceledException) when (_stream is not null || timeout is not null)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the server's next bytes: true when some are buffered,
    /// false when the server closed (FIN or reset), null when it sent nothing and kept the connection.
    /// </summary>
    public async Task<bool?> WaitForDataAsync(TimeSpan timeout)
    {
        if (_end > _start)
        {
            return true;
        }
        _start = _end = 0;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int read = await ReceiveAsync(_buffer, cts.Token);
            _end = read;
            return read > 0 ? true : false;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Reads everything until the server closes, bounded by the timeout.</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var all = new List<byte>();
        all.AddRange(_buffer.AsSpan(_start, _end - _start).ToArray());
        _start = _end = 0;
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                break;
            }
            if (read == 0)
            {
                break;
            }
            all.AddRange(_buffer.AsSpan(0, read).ToArray());
        }
        return all.ToArray();
    }

    /// <summary>
    /// Reads everything until the server ends the connection, bounded by <paramref name="timeout"/>:
    /// the bytes, and whether the end was a reset (RST) rather than a FIN. A response cut short must end
    /// with a reset, so the client cannot take it for a whole one (RFC 9112 section 8).
    /// </summary>
    public async Task<(byte[] Bytes, bool Reset)> ReadToCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var all = new List<byte>();
        all.AddRange(_buffer.AsSpan(_start, _end - _start).ToArray());
        _start = _end = 0;
        while (true)
        {
            int read;
            try
            {
                read = await ReceiveAsync(_buffer, cts.Token);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return (all.ToArray(), true);
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                return (all.ToArray(), true);
            }
            if (read == 0)
            {
                return (all.ToArray(), false);
            }
            all.AddRange(_buffer.AsSpan(0, read).ToArray());
        }
    }

    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return line.Count == 0 ? null : throw new IOException("Closed inside a line.");
            }
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf < 0)
            {
                line.AddRange(_buffer.AsSpan(_start, _end - _start).ToArray());
                _start = _end;
                continue;
            }
            line.AddRange(_buffer.AsSpan(_start, lf - _start).ToArray());
            _start = lf + 1;
            if (line.Count > 0 && line[^1] == (byte)'\r')
            {
                line.RemoveAt(line.Count - 1);
            }
            return Encoding.Latin1.GetString(line.ToArray());
        }
    }

    private async Task<List<KeyValuePair<string, string>>> ReadFieldsAsync(CancellationToken cancellationToken)
    {
        var fields = new List<KeyValuePair<string, string>>();
        while (true)
        {
            string line = await ReadLineAsync(cancellationToken) ?? throw new IOException("Closed inside the header section.");
            if (line.Length == 0)
            {
                return fields;
            }
            int colon = line.IndexOf(':');
            fields.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
    }

    public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw new IOException($"Closed after {filled} of {count} body bytes.");
            }
            int take = Math.Min(count - filled, _end - _start);
            Array.Copy(_buffer, _start, result, filled, take);
            _start += take;
            filled += take;
        }
        return result;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await ReceiveAsync(_buffer, cancellationToken);
        return _end > 0;
    }

    public ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            return _stream.DisposeAsync();
        }
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
