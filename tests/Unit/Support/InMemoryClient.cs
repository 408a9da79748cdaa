using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>
/// The client end of an in-memory connection: sends exact bytes and reads responses by RFC 9112
/// framing (Content-Length, chunked, or close-delimited). Every read is bounded, so a broken server
/// fails the test instead of hanging it.
/// </summary>
internal sealed class InMemoryClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly InMemoryConnection _connection;
    private readonly PipeReader _reader;
    private readonly List<byte> _buffered = new();
    private bool _ended;

    public InMemoryClient(InMemoryConnection connection)
    {
        _connection = connection;
        _reader = connection.ToClient.Reader;
    }

    public InMemoryConnection Connection => _connection;

    public async Task SendAsync(string text)
    {
        var writer = _connection.ToServer.Writer;
        writer.Write(Encoding.Latin1.GetBytes(text));
        await writer.FlushAsync();
    }

    /// <summary>Ends the client's direction (a FIN): the server reads the end of its input.</summary>
    public Task CloseSendAsync() => _connection.ToServer.Writer.CompleteAsync().AsTask();

    /// <summary>Reads one whole response.</summary>
    public async Task<InMemoryResponse> ReadResponseAsync(bool head = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        string statusLine = await ReadLineAsync(cts.Token) ?? throw new IOException("The connection closed before a response.");
        int status = int.Parse(statusLine.Split(' ', 3)[1]);
        var headers = new List<KeyValuePair<string, string>>();
        while (await ReadLineAsync(cts.Token) is { Length: > 0 } line)
        {
            int colon = line.IndexOf(':');
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
        string? Header(string name) => headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        var body = new List<byte>();
        if (head || status is 204 or 304 || status < 200)
        {
        }
        else if (Header("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                string size = await ReadLineAsync(cts.Token) ?? throw new IOException("Closed inside a chunked body.");
                int length = Convert.ToInt32(size.Split(';')[0], 16);
                if (length == 0)
                {
                    while (await ReadLineAsync(cts.Token) is { Length: > 0 })
                    {
                    }
                    break;
                }
                body.AddRange(await ReadExactlyAsync(length, cts.Token));
                await ReadLineAsync(cts.Token);
            }
        }
        else if (Header("Content-Length") is { } cl)
        {
            body.AddRange(await ReadExactlyAsync(int.Parse(cl), cts.Token));
        }
        else
        {
            body.AddRange(await ReadToEndAsync(cts.Token));
        }
        return new InMemoryResponse(statusLine, status, headers, body.ToArray());
    }

    /// <summary>Reads until the server ends its direction; everything that came.</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        while (await FillAsync(cancellationToken))
        {
        }
        var all = _buffered.ToArray();
        _buffered.Clear();
        return all;
    }

    /// <summary>True when the server ended the connection (FIN or reset) with nothing more to read, within <paramref name="timeout"/>.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (_buffered.Count == 0 && await FillAsync(cts.Token))
            {
            }
            return _buffered.Count == 0 && _ended;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>True when the server aborted the connection (a reset, not a FIN).</summary>
    public bool WasReset => _connection.IsReset;

    /// <summary>True when nothing arrives within <paramref name="wait"/> (real time) and the connection stays open.</summary>
    public async Task<bool> StaysSilentAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await FillAsync(cts.Token);
            return false; // something came, or the connection ended
        }
        catch (OperationCanceledException)
        {
            return _buffered.Count == 0 && !_ended;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.ToServer.Writer.CompleteAsync();
        await _reader.CompleteAsync();
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int lf = _buffered.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                int end = lf > 0 && _buffered[lf - 1] == '\r' ? lf - 1 : lf;
                string line = Encoding.Latin1.GetString(_buffered.GetRange(0, end).ToArray());
                _buffered.RemoveRange(0, lf + 1);
                return line;
            }
            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int length, CancellationToken cancellationToken)
    {
        while (_buffered.Count < length)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException($"Closed after {_buffered.Count} of {length} body bytes.");
            }
        }
        var bytes = _buffered.GetRange(0, length).ToArray();
        _buffered.RemoveRange(0, length);
        return bytes;
    }

    /// <summary>Reads what the server sent next; false once it ended its direction.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }
        var result = await _reader.ReadAsync(cancellationToken);
        foreach (var segment in result.Buffer)
        {
            _buffered.AddRange(segment.ToArray());
        }
        _reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted || result.IsCanceled)
        {
            _ended = true; // a FIN, or a reset (the server's abort cancels the client's read)
            return !result.Buffer.IsEmpty;
        }
        return true;
    }
}
