using System.Net.Sockets;
using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Sockets;

/// <summary>Accepts with .NET's socket engine: an accept loop on the thread pool (every platform without epoll).</summary>
internal sealed class SocketEngineListener : SocketListener
{
    public SocketEngineListener(Socket socket, MillisecondClock clock)
        : base(socket, clock)
    {
    }

    protected override void StartAccepting() => _ = AcceptLoopAsync();

    protected override TransportConnection CreateConnection(Socket socket, ConnectionSettings settings) =>
        new SocketEngineConnection(socket, settings, Clock);

    private async Task AcceptLoopAsync()
    {
        while (!Disposed)
        {
            Socket accepted;
            try
            {
                accepted = await Socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return; // disposed while accepting
            }
            catch (SocketException ex)
            {
                if (OnAcceptFailed(ex))
                {
                    await Task.Delay(AcceptBackoff).ConfigureAwait(false); // would repeat at once (EMFILE)
                }
                continue;
            }
            OnAccepted(accepted);
        }
    }
}
