namespace HttpSysLite.Transport.Sockets;

/// <summary>The peer reset or closed the connection; expected, and never an app fault.</summary>
public sealed class ConnectionResetException : IOException
{
    /// <summary>Wraps the socket error that showed it.</summary>
    public ConnectionResetException(Exception inner)
        : base("The client reset the connection.", inner)
    {
    }
}
