using System.Net.Sockets;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// Accepts on an epoll loop thread (Linux): level-triggered, one accept per event, so a backlog of
/// several connections reports the listener again on the loop's next wait, between the other
/// sockets' events. The loop accepts, registers the socket and starts the connection, whose first read
/// then happens on the same thread with no hand-off.
/// </summary>
internal sealed class EpollListener : SocketListener, IEpollRegistration
{
    private readonly EpollLoop _loop;
    private Timer? _backoff;

    public EpollListener(Socket socket, MillisecondClock clock)
        : base(socket, clock)
    {
        _loop = EpollLoop.Next()!;
    }

    public int EpollSlot { get; set; } = -1;

    public uint EpollToken { get; set; }

    protected override void StartAccepting()
    {
        Socket.Blocking = false; // an event that finds the backlog empty (the client gave up) gets WouldBlock, not a wait
        _loop.Register(this, (int)Socket.Handle, EpollInterop.EPOLLIN);
    }

    protected override EpollLoop? TlsLoop => EpollLoop.Next();

    protected override TransportConnection CreateConnection(Socket socket, ConnectionSettings settings) =>
        new EpollConnection(socket, settings, Clock, EpollLoop.Next()!);

    void IEpollRegistration.OnEpollEvent(uint events)
    {
        Socket? accepted;
        SocketError error;
        try
        {
            // Not Socket.Accept: from a non-blocking listener it gives each connection .NET's engine
            // state, which an epoll connection never uses (NonBlockingSocket).
            accepted = NonBlockingSocket.Accept(Socket, out error);
        }
        catch (ObjectDisposedException)
        {
            return; // stopped listening
        }
        if (accepted is null)
        {
            if (error is not (SocketError.WouldBlock or SocketError.ConnectionAborted or SocketError.ConnectionReset) && OnAcceptFailed(new SocketException((int)error)))
            {
                // The same error would come back at once (level-triggered): pause this listener, not the loop.
                PauseAccepting();
            }
            return;
        }
        OnAccepted(accepted);
    }

    void IEpollRegistration.OnEpollEventFailed(Exception exception)
    {
        PauseAccepting();
        ReportError(exception);
    }

    public override void Dispose()
    {
        Disposed = true;
        _loop.Unregister(this); // closing the socket removes it from epoll
        _backoff?.Dispose();
        base.Dispose();
    }

    private void PauseAccepting()
    {
        try
        {
            if (Disposed || _loop.Modify(this, (int)Socket.Handle, 0) != 0)
            {
                return;
            }
            _backoff ??= new Timer(static state => ((EpollListener)state!).ResumeAccepting(), this, Timeout.Infinite, Timeout.Infinite);
            _backoff.Change(AcceptBackoff, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nothing to pause.
        }
    }

    private void ResumeAccepting()
    {
        try
        {
            if (!Disposed)
            {
                _loop.Modify(this, (int)Socket.Handle, EpollInterop.EPOLLIN);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed as the pause ended.
        }
    }
}
