using System.Net.Sockets;

namespace HttpSysLite.Transport.Sockets;

/// <summary>The one place that decides which socket errors are a peer going away (expected, logged at Debug).</summary>
internal static class SocketErrors
{
    /// <summary>True for the errors a disconnecting or resetting client causes.</summary>
    public static bool IsConnectionReset(SocketError error) => error is
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or
        SocketError.OperationAborted or SocketError.Interrupted or SocketError.NetworkReset or
        SocketError.NotConnected or SocketError.TimedOut;

    /// <summary>True for any exception that only says the connection is gone.</summary>
    public static bool IsConnectionGone(Exception ex) => ex switch
    {
        SocketException se => IsConnectionReset(se.SocketErrorCode),
        ObjectDisposedException => true,
        IOException { InnerException: SocketException se } => IsConnectionReset(se.SocketErrorCode),
        _ => false,
    };
}
