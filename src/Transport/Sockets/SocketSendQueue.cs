using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// How many bytes a TCP socket holds that the peer has not acknowledged (sent or not yet sent).
/// Linux answers SIOCOUTQ (tcp(7)), macOS the SO_NWRITE option; elsewhere there is no cheap way to
/// ask, and the answer is 0, so an unbuffered write completes once the socket has taken it.
/// </summary>
internal static partial class SocketSendQueue
{
    // SIOCOUTQ shares TIOCOUTQ's number on the Linux architectures .NET runs on (x64, arm64, arm).
    private const nuint SIOCOUTQ = 0x5411;
    private const int SOL_SOCKET_BSD = 0xffff;
    private const int SO_NWRITE = 0x1024;
    private const int IPPROTO_TCP = 6;
    private const int TCP_MAXSEG = 2; // the same number on Linux and macOS

    public static int Unacknowledged(Socket socket)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return ioctl((int)socket.Handle, SIOCOUTQ, out int queued) == 0 ? queued : 0;
            }
            if (OperatingSystem.IsMacOS())
            {
                Span<byte> value = stackalloc byte[sizeof(int)];
                return socket.GetRawSocketOption(SOL_SOCKET_BSD, SO_NWRITE, value) == sizeof(int)
                    ? MemoryMarshal.Read<int>(value)
                    : 0;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The socket is closing: nothing is left to wait for.
        }
        return 0;
    }

    /// <summary>The connection's maximum segment size (TCP_MAXSEG), or 1,460 where it cannot be read.</summary>
    public static int MaximumSegmentSize(Socket socket)
    {
        try
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            if (!OperatingSystem.IsWindows() && socket.GetRawSocketOption(IPPROTO_TCP, TCP_MAXSEG, value) == sizeof(int))
            {
                return MemoryMarshal.Read<int>(value);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closing: any answer will do.
        }
        return 1460;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, nuint request, out int value);
}
