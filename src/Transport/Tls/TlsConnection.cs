using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Diagnostics;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// A connection on a TLS port: the driver's side of the handshake, then TLS records to and from the
/// same pipes every connection has, so the HTTP connection above cannot tell it from a plain one. The
/// handshake picks its certificate by the port's bindings (SNI name, then address), is bounded by
/// HeaderWait, and turns away plain HTTP with a 400 that says why. SslStream owns the reads and
/// writes of the socket, through an epoll loop's stream on Linux (<see cref="TlsEpollStream"/>) and
/// .NET's socket engine elsewhere (<see cref="TlsSocketStream"/>).
/// </summary>
internal sealed class TlsConnection : SocketConnection
{
    /// <summary>One TLS record's worth of plaintext (RFC 8446 section 5.1): sends are gathered up to it.</summary>
    private const int RecordSize = 16 * 1024;

    // nginx's answer, in our words: plain HTTP on a TLS port is a client mistake worth explaining.
    private static readonly byte[] s_plainHttpResponse = BuildPlainHttpResponse();

    // A fatal unrecognized_name alert (RFC 8446 section 6.2; RFC 6066 section 3): no binding for the
    // endpoint and SNI name. SslStream sends no alert when the certificate selection fails, so it is
    // written raw, before any server record.
    private static readonly byte[] s_unrecognizedNameAlert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70];

    private readonly PortBinding _port;
    private readonly MillisecondClock _clock;
    private readonly EpollLoop? _loop;
    private readonly TaskCompletionSource<bool> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ClientCertificateRenegotiation? _renegotiation;
    private SslStream? _ssl;
    private TlsNetworkStream? _network;
    private CertificateSelection? _selected;
    private string? _selectedServerName;
    private TlsConnectionInfo? _info;

    private readonly LoopScheduler _inputScheduler;

    /// <param name="socket">The accepted socket.</param>
    /// <param name="port">The TLS port it arrived on, with its certificate bindings.</param>
    /// <param name="clock">The driver's clock.</param>
    /// <param name="loop">The epoll loop that serves the socket; null for .NET's socket engine.</param>
    public TlsConnection(Socket socket, PortBinding port, MillisecondClock clock, EpollLoop? loop)
        : this(socket, port, clock, loop, new LoopScheduler(PipeScheduler.ThreadPool, allowInline: false))
    {
    }

    // The receive loop is this connection's I/O loop: while the HTTP connection waits for a head, the
    // head is parsed (and a cache hit answered, its records written) in the read that decrypted it, as
    // on the epoll loop; the app and its body reads run on the thread pool.
    private TlsConnection(Socket socket, PortBinding port, MillisecondClock clock, EpollLoop? loop, LoopScheduler inputScheduler)
        : base(socket, port.Settings, clock, inputReader: inputScheduler, inputWriter: PipeScheduler.Inline,
            outputReader: new LoopScheduler(IOQueue.Next(), allowInline: true))
    {
        _inputScheduler = inputScheduler;
        _port = port;
        _clock = clock;
        _loop = loop;
        if (port.Settings.ClientCertificates == ClientCertificateRequest.OnRequest)
        {
            _renegotiation = new ClientCertificateRenegotiation();
        }
    }

    /// <inheritdoc />
    public override TlsConnectionInfo? Tls => _info;

    /// <inheritdoc />
    public override bool OnLoopThread => IoLoopThread.IsCurrent;

    /// <inheritdoc />
    public override void AllowReadsOnLoopThread() => _inputScheduler.AllowInline = true;

    /// <inheritdoc />
    public override bool LeaveLoopThread()
    {
        _inputScheduler.AllowInline = false;
        return IoLoopThread.IsCurrent;
    }

    protected override Task StartReceiving() => RunAsync();

    private async Task RunAsync()
    {
        var writer = InputWriter;
        Exception? error = null;
        try
        {
            bool established = await HandshakeAsync().ConfigureAwait(false);
            _handshake.TrySetResult(established);
            if (established)
            {
                await ReceiveLoopAsync(writer, _ssl!).ConfigureAwait(false);
                if (_network!.WasReset)
                {
                    // The peer reset: said as a value by the stream, so the HTTP connection sees a reset.
                    error = new ConnectionResetException(new SocketException((int)SocketError.ConnectionReset));
                }
            }
        }
        catch (Exception ex) when (SocketErrors.IsConnectionGone(ex) || ex is IOException)
        {
            error = new ConnectionResetException(ex);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            _handshake.TrySetResult(false);
            _renegotiation?.ReceivingEnded();
            // A FIN or close_notify says only that the client sends nothing more: what it asked for is
            // still answered (RFC 9112 section 9.6); a reset or a failed read ends the connection.
            CompleteInput(error);
            if (error is null && !await _handshake.Task.ConfigureAwait(false))
            {
                SignalClosed(); // no handshake: there is nobody to answer
            }
        }
    }

    /// <summary>The handshake; false when the connection ends without one (each such end is traced and counted).</summary>
    private async Task<bool> HandshakeAsync()
    {
        var log = HttpSysLiteEventSource.Log;
        using var timeout = new CancellationTokenSource(_port.Settings.HeaderWait, _clock.Time);
        string? failure = null;
        try
        {
            TlsNetworkStream network;
            if (_loop is { } loop)
            {
                var epoll = new TlsEpollStream(Socket, loop);
                _network = network = epoll;
                epoll.Start();
            }
            else
            {
                _network = network = new TlsSocketStream(Socket);
            }
            // TLS begins with a handshake record (RFC 8446 section 5.1: content type 22); a letter is
            // an HTTP method, sent in the clear.
            int first = await network.PeekAsync(timeout.Token).ConfigureAwait(false);
            if (first < 0)
            {
                failure = "closed";
                return false;
            }
            long start = Stopwatch.GetTimestamp();
            if (first != 0x16)
            {
                failure = char.IsAsciiLetterUpper((char)first) ? "plain HTTP" : "not TLS";
                if (failure == "plain HTTP")
                {
                    await network.WriteAsync(s_plainHttpResponse, timeout.Token).ConfigureAwait(false);
                }
                return false;
            }
            if (log.IsEnabled())
            {
                log.SslInitiateHandshake(Id);
            }
            var recorder = _port.Settings.CacheTlsClientHello ? new ClientHelloRecorder(network) : null;
            var ssl = new SslStream(recorder ?? (Stream)network, leaveInnerStreamOpen: true);
            _ssl = ssl;
            try
            {
                var local = LocalEndPoint;
                var certificates = _port.Certificates!;
                if (!certificates.SelectsByServerName(local.Port) && certificates.Select(local.Port, local.Address, null) is { } byAddress)
                {
                    // Only the address decides: the options go in whole, and SslStream need not stop to
                    // parse the ClientHello for us (the common case, and the cheaper handshake).
                    _selected = byAddress;
                    await ssl.AuthenticateAsServerAsync(byAddress.Context.Options(_port.Settings.ClientCertificates == ClientCertificateRequest.InHandshake), timeout.Token)
                        .ConfigureAwait(false);
                }
                else
                {
                    await ssl.AuthenticateAsServerAsync(static (stream, hello, state, _) => ((TlsConnection)state!).Select(hello), this, timeout.Token)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception) when (_selected is null && !timeout.IsCancellationRequested)
            {
                failure = "no certificate binding";
                await TrySendAsync(s_unrecognizedNameAlert).ConfigureAwait(false);
                return false;
            }
            var remote = ssl.RemoteCertificate;
            _info = new TlsConnectionInfo
            {
#pragma warning disable SYSLIB0058 // obsolete, but ITlsHandshakeFeature still asks for them
                Algorithms = ((int)ssl.CipherAlgorithm, ssl.CipherStrength, (int)ssl.HashAlgorithm, ssl.HashStrength, (int)ssl.KeyExchangeAlgorithm, ssl.KeyExchangeStrength),
#pragma warning restore SYSLIB0058
                Protocol = ssl.SslProtocol,
                CipherSuite = ssl.NegotiatedCipherSuite,
                ApplicationProtocol = ssl.NegotiatedApplicationProtocol,
                HostName = ssl.TargetHostName,
                Binding = _selected!.Value.Binding,
                HandshakeStart = start,
                ClientHello = recorder?.ClientHello,
                HandshakeEnd = Stopwatch.GetTimestamp(),
                ClientCertificate = remote as X509Certificate2 ?? (remote is null ? null : X509CertificateLoader.LoadCertificate(remote.GetRawCertData())),
            };
            HttpSysLiteMeter.TlsHandshakes.Add(1);
            // From here a record is decrypted in the event that announced it, and the head in it parsed
            // there, as on a plain epoll connection. Not on a port that may renegotiate: the app awaits
            // that handshake's reads, and its code must never continue on the loop.
            network.ContinueOnLoop = _renegotiation is null;
            if (log.IsEnabled())
            {
                log.SslHandshakeComplete(Id, _info.Protocol.ToString(), _info.CipherSuite.ToString(), _info.HostName, _info.Binding.Endpoint);
                if (_info.ClientCertificate is { } client)
                {
                    log.SslRcvdClientCert(Id, client.Subject);
                }
            }
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            failure = "HeaderWait timed out";
            return false;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or ObjectDisposedException)
        {
            failure = timeout.IsCancellationRequested ? "HeaderWait timed out" : ex.Message;
            return false;
        }
        catch (ArgumentException ex)
        {
            // .NET's ClientHello parser (TlsFrameHelper) throws ArgumentOutOfRangeException on some
            // malformed hellos instead of failing the handshake (found by the 5,000-hello fuzz): a bad
            // hello, not a server fault.
            failure = $"malformed ClientHello ({ex.GetType().Name})";
            return false;
        }
        finally
        {
            if (failure is not null && failure != "closed")
            {
                HttpSysLiteMeter.TlsHandshakeFailures.Add(1);
                if (log.IsEnabled())
                {
                    log.SslHandshakeFailed(Id, failure, LocalEndPoint.ToString(), _selectedServerName ?? string.Empty);
                }
                if (failure == "no certificate binding")
                {
                    _port.ReportTlsFailure($"No certificate binding for {LocalEndPoint} and SNI name '{_selectedServerName}': add an ipport, hostnameport or ccs binding for it.");
                }
            }
        }
    }

    private ValueTask<SslServerAuthenticationOptions> Select(SslClientHelloInfo hello)
    {
        _selectedServerName = hello.ServerName;
        var local = LocalEndPoint;
        var selected = _port.Certificates!.Select(local.Port, local.Address, hello.ServerName)
            ?? throw new AuthenticationException($"No certificate binding for {local} and SNI name '{hello.ServerName}'.");
        _selected = selected;
        return ValueTask.FromResult(selected.Context.Options(_port.Settings.ClientCertificates == ClientCertificateRequest.InHandshake));
    }

    private async ValueTask TrySendAsync(byte[] bytes)
    {
        try
        {
            await _network!.WriteAsync(bytes).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            // The client is gone already.
        }
    }

    private async Task ReceiveLoopAsync(PipeWriter writer, SslStream ssl)
    {
        var renegotiation = _renegotiation;
        while (true)
        {
            // A zero-byte read waits for a record without holding a buffer (SslStream keeps none while idle).
            if (renegotiation is null)
            {
                await ssl.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
            }
            else if (!await WaitForRecordAsync(ssl, renegotiation).ConfigureAwait(false))
            {
                continue; // a request asked for a client certificate, and has it (or not) now
            }
            if (ReceiveShutDown)
            {
                return;
            }
            var memory = writer.GetMemory(4096);
            int received = await ssl.ReadAsync(memory).ConfigureAwait(false);
            if (received == 0)
            {
                return; // close_notify or FIN: the client has finished sending
            }
            writer.Advance(received);
            var flush = await FlushAsIoLoopAsync(writer).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                // The HTTP connection stopped reading: discard until the client's end, so closing does
                // not reset a response it has not read yet (a lingering close).
                byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    while (await ssl.ReadAsync(scratch).ConfigureAwait(false) > 0)
                    {
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                }
                return;
            }
        }
    }

    /// <summary>
    /// Hands the bytes to the HTTP connection with this thread marked as an I/O loop for the flush's
    /// synchronous part: what the HTTP connection does inline then (parse, route, answer from the
    /// cache) runs here, and its send too.
    /// </summary>
    private static ValueTask<FlushResult> FlushAsIoLoopAsync(PipeWriter writer)
    {
        bool was = IoLoopThread.Enter();
        try
        {
            return writer.FlushAsync();
        }
        finally
        {
            IoLoopThread.Restore(was);
        }
    }

    /// <summary>
    /// The wait for the next record on a port that may renegotiate: false when a request asked for a
    /// client certificate instead, after the new handshake is over.
    /// </summary>
    private static async ValueTask<bool> WaitForRecordAsync(SslStream ssl, ClientCertificateRenegotiation renegotiation)
    {
        if (!renegotiation.TryPause(out var resume))
        {
            try
            {
                await ssl.ReadAsync(Memory<byte>.Empty, renegotiation.WaitToken).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException)
            {
                renegotiation.RenewWaitToken();
                if (!renegotiation.TryPause(out resume))
                {
                    return false;
                }
            }
        }
        await resume.ConfigureAwait(false);
        renegotiation.RenewWaitToken();
        return false;
    }

    /// <summary>
    /// Asks the client for a certificate now (HTTP.sys's HttpReceiveClientCertificate): TLS 1.2
    /// renegotiation or TLS 1.3 post-handshake authentication, on a port set to ask on request. The
    /// client's unread bytes must all have been read first, as SslStream cannot renegotiate past them.
    /// Null when the client sends none. Bounded by HeaderWait, as the first handshake is.
    /// </summary>
    public override async ValueTask<X509Certificate2?> ReceiveClientCertificateAsync(CancellationToken cancellationToken)
    {
        var info = _info;
        if (info is null || info.ClientCertificate is not null || _renegotiation is null)
        {
            return info?.ClientCertificate;
        }
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows() && !OperatingSystem.IsFreeBSD())
        {
            // macOS's TLS has no way to ask later; the server refuses AllowRenegotation there at start.
            throw new PlatformNotSupportedException("Asking for a client certificate after the handshake needs OpenSSL (Linux, FreeBSD) or SChannel (Windows).");
        }
        var ssl = _ssl!;
        var log = HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.SslInititateSslRcvClientCert(Id);
        }
        using var bound = new CancellationTokenSource(_port.Settings.HeaderWait, _clock.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ConnectionClosed, bound.Token);
        try
        {
#pragma warning disable CA1416 // the platforms that have it are checked above; the analyzer does not follow a method group
            await _renegotiation.RunAsync(ssl.NegotiateClientCertificateAsync, timeout.Token).ConfigureAwait(false);
#pragma warning restore CA1416
        }
        catch (Exception ex)
        {
            if (log.IsEnabled())
            {
                log.SslRcvClientCertFailed(Id, bound.IsCancellationRequested ? "HeaderWait timed out" : ex.Message);
            }
            throw;
        }
        var remote = ssl.RemoteCertificate;
        var certificate = remote as X509Certificate2 ?? (remote is null ? null : X509CertificateLoader.LoadCertificate(remote.GetRawCertData()));
        info.ClientCertificate = certificate;
        if (certificate is null && log.IsEnabled())
        {
            log.SslRcvdNoClientCert(Id);
        }
        else if (log.IsEnabled())
        {
            log.SslRcvdClientCert(Id, certificate!.Subject);
        }
        return certificate;
    }

    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (_renegotiation is { } renegotiation)
        {
            // No record may go out while a handshake is under way.
            await renegotiation.EnterSendAsync().ConfigureAwait(false);
            try
            {
                await SendRecordsAsync(buffer).ConfigureAwait(false);
            }
            finally
            {
                renegotiation.ExitSend();
            }
            return;
        }
        await SendRecordsAsync(buffer).ConfigureAwait(false);
    }

    private async ValueTask SendRecordsAsync(ReadOnlySequence<byte> buffer)
    {
        // What the driver writes before a handshake (a 503 past MaxConnections) waits for it; without
        // one there is nobody to send it to.
        if (_ssl is null || !_handshake.Task.IsCompleted)
        {
            if (!await _handshake.Task.ConfigureAwait(false))
            {
                return;
            }
        }
        var ssl = _ssl!;
        if (buffer.IsSingleSegment)
        {
            await WriteAsync(ssl, buffer.First).ConfigureAwait(false);
            return;
        }
        // Several pipe segments (pipelined responses, a head and its body): gathered into records, as
        // each write is a record and small records cost a MAC and a header each.
        byte[] gather = ArrayPool<byte>.Shared.Rent(RecordSize);
        try
        {
            int used = 0;
            foreach (var segment in buffer)
            {
                var rest = segment;
                while (!rest.IsEmpty)
                {
                    int take = Math.Min(rest.Length, RecordSize - used);
                    rest.Span[..take].CopyTo(gather.AsSpan(used));
                    used += take;
                    rest = rest[take..];
                    if (used == RecordSize)
                    {
                        await WriteAsync(ssl, gather.AsMemory(0, used)).ConfigureAwait(false);
                        used = 0;
                    }
                }
            }
            if (used > 0)
            {
                await WriteAsync(ssl, gather.AsMemory(0, used)).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gather);
        }
    }

    private async ValueTask WriteAsync(SslStream ssl, ReadOnlyMemory<byte> bytes)
    {
        var pending = ssl.WriteAsync(bytes);
        if (pending.IsCompleted)
        {
            pending.GetAwaiter().GetResult();
        }
        else
        {
            // The socket buffer is full: the client is not taking bytes as fast as they come.
            StartSendTimer(bytes.Length);
            await pending.ConfigureAwait(false);
            StopSendTimer();
        }
        OnSent(bytes.Length);
    }

    protected override void AbortTransport(bool reset)
    {
        base.AbortTransport(reset);
        (_network as TlsEpollStream)?.Detach(); // the closed socket left epoll: its waits end now
    }

    protected override void ReleaseTransport()
    {
        _ssl?.Dispose();
        _network?.Dispose();
        base.ReleaseTransport();
    }

    private static byte[] BuildPlainHttpResponse()
    {
        const string body = "Bad Request - This port speaks HTTPS\r\n\r\nHTTP Error 400. A plain HTTP request was sent to a TLS port: use https:// for this address.\r\n";
        return System.Text.Encoding.ASCII.GetBytes(
            $"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Length: {body.Length}\r\nConnection: close\r\nServer: HttpSysLite\r\n\r\n{body}");
    }
}
