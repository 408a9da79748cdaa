using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The three epoll calls (epoll(7)) the Linux transport needs, from libc. Events are read from a raw
/// buffer: struct epoll_event is packed on x86-64 (12 bytes, data at offset 4) and naturally aligned
/// elsewhere (16 bytes, data at offset 8).
/// </summary>
internal static unsafe class EpollInterop
{
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_MOD = 3;
    public const int EPOLL_CLOEXEC = 0x80000;

    public const int EINTR = 4;

    /// <summary>True where this layout is known: Linux on x86-64 and 64-bit Arm.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    public static int EventSize { get; } = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static int DataOffset { get; } = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [DllImport("libc", SetLastError = true)]
    public static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int epoll_ctl(int epfd, int op, int fd, byte* @event);

    [DllImport("libc", SetLastError = true)]
    public static extern int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    /// <summary>Adds <paramref name="fd"/> to <paramref name="epfd"/> or changes its events (<paramref name="op"/>); 0 or errno.</summary>
    public static int Control(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + DataOffset) = data;
        return epoll_ctl(epfd, op, fd, ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
