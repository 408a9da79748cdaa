using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The epoll transport's own receive and send calls (Linux). .NET's Socket.Blocking = false, and any
/// Socket.Receive or Socket.Send, give the socket a SocketAsyncContext: an engine's state (152 B, with
/// its queues and their locks) that an epoll connection never uses, kept for the connection's life
/// (issue 22: what an idle connection holds). So the descriptor is made non-blocking here and read and
/// written with recv(2) and send(2) directly; .NET's Socket keeps the descriptor, the options, the
/// shutdown and the close.
/// </summary>
internal static unsafe partial class NonBlockingSocket
{
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int O_NONBLOCK = 0x800; // Linux, every architecture .NET runs on
    private const int MSG_NOSIGNAL = 0x4000; // a peer that closed gives EPIPE, not SIGPIPE
    private const int EINTR = 4;
    private const int EAGAIN = 11; // also EWOULDBLOCK on Linux
    private const int SOCK_CLOEXEC = 0x80000; // as .NET opens every descriptor: not inherited by a child process

    /// <summary>
    /// accept4(2) on a non-blocking listener: the next connection of its backlog, as a Socket that
    /// .NET has given no engine state (Socket.Accept does, as the listener is non-blocking). Null, with
    /// <paramref name="error"/> set, when there is none: WouldBlock when the backlog is empty,
    /// ConnectionAborted when the client reset before its address could be read (Socket.Accept read it
    /// from accept itself; .NET reads it afterwards here), else why accepting failed. Expected outcomes
    /// are values: a client that resets at once is everyday, not something to throw and catch.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The listener is closed.</exception>
    public static Socket? Accept(Socket listener, out SocketError error)
    {
        var handle = listener.SafeHandle;
        bool added = false;
        int fd;
        try
        {
            handle.DangerousAddRef(ref added);
            while ((fd = accept4((int)handle.DangerousGetHandle(), null, null, SOCK_CLOEXEC)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    error = ToSocketError(errno);
                    return null;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
        // Blocking, as accept4 leaves it: .NET reads the descriptor's mode here, and a non-blocking one
        // would get the engine state after all. SetNonBlocking changes the mode behind .NET's back.
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        if (socket.RemoteEndPoint is null || socket.LocalEndPoint is null)
        {
            socket.Dispose();
            error = SocketError.ConnectionAborted;
            return null;
        }
        error = SocketError.Success;
        return socket;
    }

    /// <summary>Makes the descriptor's calls return EAGAIN instead of waiting.</summary>
    /// <exception cref="SocketException">fcntl failed (the socket is closed).</exception>
    public static void SetNonBlocking(Socket socket)
    {
        int fd = (int)socket.Handle;
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        {
            throw new SocketException((int)ToSocketError(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>recv(2): the bytes read (0 at the peer's FIN), or -1 with <paramref name="error"/> set (WouldBlock when there is nothing).</summary>
    public static int Receive(Socket socket, Span<byte> buffer, out SocketError error)
    {
        fixed (byte* bytes = buffer)
        {
            return (int)Call(socket, bytes, buffer.Length, receive: true, out error);
        }
    }

    /// <summary>send(2): the bytes the socket took, or -1 with <paramref name="error"/> set (WouldBlock when its buffer is full).</summary>
    public static int Send(Socket socket, ReadOnlySpan<byte> buffer, out SocketError error)
    {
        fixed (byte* bytes = buffer)
        {
            return (int)Call(socket, bytes, buffer.Length, receive: false, out error);
        }
    }

    private static nint Call(Socket socket, byte* bytes, int length, bool receive, out SocketError error)
    {
        var handle = socket.SafeHandle;
        bool added = false;
        try
        {
            // The reference keeps the descriptor open for the call: an abort on another thread that
            // closed it could otherwise let a new connection reuse its number under this call.
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                nint done = receive ? recv(fd, bytes, (nuint)length, 0) : send(fd, bytes, (nuint)length, MSG_NOSIGNAL);
                if (done >= 0)
                {
                    error = SocketError.Success;
                    return done;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    error = ToSocketError(errno);
                    return -1;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The SocketError .NET reports for the errno values a connected TCP socket meets (errno(3), Linux numbers).</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        EAGAIN => SocketError.WouldBlock,
        9 => SocketError.OperationAborted, // EBADF: closed under the call
        32 => SocketError.Shutdown, // EPIPE: our side was shut down, or the peer reset before
        103 => SocketError.ConnectionAborted, // ECONNABORTED
        104 => SocketError.ConnectionReset, // ECONNRESET
        107 => SocketError.NotConnected, // ENOTCONN
        110 => SocketError.TimedOut, // ETIMEDOUT: keep-alive probes or retransmissions gave up
        113 => SocketError.HostUnreachable, // EHOSTUNREACH
        101 => SocketError.NetworkUnreachable, // ENETUNREACH
        100 => SocketError.NetworkDown, // ENETDOWN
        23 or 24 => SocketError.TooManyOpenSockets, // ENFILE, EMFILE: out of descriptors
        105 => SocketError.NoBufferSpaceAvailable, // ENOBUFS
        12 => SocketError.NoBufferSpaceAvailable, // ENOMEM, as .NET maps it
        _ => SocketError.SocketError,
    };

    [LibraryImport("libc", SetLastError = true)]
    private static partial int accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, byte* buffer, nuint length, int flags);
}
