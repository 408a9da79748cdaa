namespace HttpSysLite.Transport.Tls;

/// <summary>
/// What lets a request ask a TLS connection for a client certificate after its handshake (TLS 1.2
/// renegotiation, RFC 5746, or TLS 1.3 post-handshake authentication, RFC 8446 section 4.6.2). SslStream
/// renegotiates only with no read and no write of its own under way, and the connection's receive loop
/// always has a read waiting for the next record. So the loop waits with a zero-byte read this can
/// cancel (a zero-byte read consumes nothing, so cancelling it loses nothing) and stops at the top of
/// its next turn, and the sends queue behind one gate, until the new handshake is over.
/// One per connection on a port with ClientCertificateRequest.OnRequest; none elsewhere, so other ports
/// pay nothing for it.
/// </summary>
internal sealed class ClientCertificateRenegotiation
{
    private readonly SemaphoreSlim _sends = new(1, 1);
    private CancellationTokenSource _wait = new();
    private Round? _round;
    private int _receivingEnded;

    /// <summary>The token of the receive loop's zero-byte read: cancelled when a request asks for a certificate.</summary>
    public CancellationToken WaitToken => Volatile.Read(ref _wait).Token;

    /// <summary>
    /// The receive loop's check at the top of each turn: true, with what to wait for, while a request
    /// asks; the loop has then stopped reading.
    /// </summary>
    public bool TryPause(out Task resume)
    {
        var round = Volatile.Read(ref _round);
        if (round is null)
        {
            resume = Task.CompletedTask;
            return false;
        }
        round.Paused.TrySetResult();
        resume = round.Resume.Task;
        return true;
    }

    /// <summary>After a cancelled wait: the next one needs a token of its own (a cancelled source stays cancelled).</summary>
    public void RenewWaitToken()
    {
        if (Volatile.Read(ref _wait).IsCancellationRequested)
        {
            // Not disposed: a request that asks next may be cancelling the old one at this moment.
            Interlocked.Exchange(ref _wait, new CancellationTokenSource());
        }
    }

    /// <summary>The receive loop has ended: nothing can be asked of the client any more.</summary>
    public void ReceivingEnded()
    {
        Interlocked.Exchange(ref _receivingEnded, 1);
        Volatile.Read(ref _round)?.Paused.TrySetException(ClientGone());
    }

    /// <summary>Taken around each send, so no record goes out in the middle of a handshake.</summary>
    public Task EnterSendAsync() => _sends.WaitAsync();

    /// <inheritdoc cref="EnterSendAsync"/>
    public void ExitSend() => _sends.Release();

    /// <summary>
    /// Stops the receive loop and the sends, runs <paramref name="renegotiate"/>, and lets both go on,
    /// whatever the outcome. One at a time per connection.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> renegotiate, CancellationToken cancellationToken)
    {
        var round = new Round();
        if (Interlocked.CompareExchange(ref _round, round, null) is not null)
        {
            throw new InvalidOperationException("A client certificate is being asked for on this connection already.");
        }
        bool sending = false;
        try
        {
            // Published before the cancel, and the loop renews its token before it looks for a round: one
            // of the two always sees the other (both are full fences).
            Volatile.Read(ref _wait).Cancel();
            if (Volatile.Read(ref _receivingEnded) == 1)
            {
                throw ClientGone();
            }
            await round.Paused.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _sends.WaitAsync(cancellationToken).ConfigureAwait(false);
            sending = true;
            await renegotiate(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (sending)
            {
                _sends.Release();
            }
            Interlocked.Exchange(ref _round, null);
            round.Resume.TrySetResult();
        }
    }

    private static IOException ClientGone() => new("The client closed the connection before it was asked for a certificate.");

    private sealed class Round
    {
        public readonly TaskCompletionSource Paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
