using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The Linux receive path: one thread per loop waits in epoll_wait for many connections at once and
/// reads each readable socket itself, then runs the HTTP connection's head parsing on this thread, so
/// a request the response cache answers never leaves it (what HTTP.sys does on its I/O path in the
/// kernel). Everything else hops to the thread pool before the app runs, so app code never blocks
/// the loop. Registration is edge-triggered and a read shorter than the buffer means the socket is
/// drained (TCP returns all it has, up to the buffer), which saves the read that would only say
/// EAGAIN; with .NET's socket engine each request costs that extra read and a thread hand-off.
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;

    [ThreadStatic]
    private static bool t_onLoopThread;

    private static EpollLoop[]? s_loops;
    private static int s_next;

    private readonly int _epfd;
    private readonly object _gate = new();
    private SocketConnection?[] _slots = new SocketConnection?[256];
    private readonly Stack<int> _free = new();
    private int _used;
    private uint _lastToken;

    private EpollLoop(int index)
    {
        _epfd = EpollInterop.epoll_create1(EpollInterop.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var thread = new Thread(Run) { IsBackground = true, Name = $"HttpSysLite epoll {index}" };
        thread.UnsafeStart();
    }

    /// <summary>True on a loop thread: code here must not block, and the app must not run here.</summary>
    public static bool OnLoopThread => t_onLoopThread;

    /// <summary>The loops, created on first use; round-robin per connection. Null where epoll is not available.</summary>
    public static EpollLoop? Next()
    {
        if (!EpollInterop.IsSupported)
        {
            return null;
        }
        var loops = s_loops ?? CreateLoops();
        return loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
    }

    /// <summary>Starts watching <paramref name="connection"/>'s socket; its events arrive in <see cref="SocketConnection.OnEpollEvent"/>.</summary>
    public void Register(SocketConnection connection, int fd)
    {
        int index;
        uint token;
        lock (_gate)
        {
            index = _free.Count > 0 ? _free.Pop() : _used++;
            if (index >= _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }
            token = ++_lastToken;
            Volatile.Write(ref _slots[index], connection);
        }
        connection.EpollSlot = index;
        connection.EpollToken = token;
        int error = EpollInterop.Add(_epfd, fd,
            EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLOUT | EpollInterop.EPOLLET,
            ((ulong)token << 32) | (uint)index);
        if (error != 0)
        {
            Unregister(connection);
            throw new System.Net.Sockets.SocketException(error);
        }
    }

    /// <summary>
    /// Frees the connection's slot once its socket is closed (closing removes it from epoll). An event
    /// already taken from epoll for it finds the slot empty or holding another token, and is dropped.
    /// </summary>
    public void Unregister(SocketConnection connection)
    {
        lock (_gate)
        {
            int index = connection.EpollSlot;
            if (index >= 0 && ReferenceEquals(_slots[index], connection))
            {
                Volatile.Write(ref _slots[index], null);
                _free.Push(index);
            }
            connection.EpollSlot = -1;
        }
    }

    private static EpollLoop[] CreateLoops()
    {
        lock (typeof(EpollLoop))
        {
            if (s_loops is null)
            {
                // One loop per two cores: a loop is busy only while it reads and parses.
                var loops = new EpollLoop[Math.Clamp(Environment.ProcessorCount / 2, 1, 16)];
                for (int i = 0; i < loops.Length; i++)
                {
                    loops[i] = new EpollLoop(i);
                }
                s_loops = loops;
            }
            return s_loops;
        }
    }

    private void Run()
    {
        t_onLoopThread = true;
        int size = EpollInterop.EventSize;
        int dataOffset = EpollInterop.DataOffset;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        while (true)
        {
            int count = EpollInterop.epoll_wait(_epfd, events, MaxEvents, -1);
            if (count < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EpollInterop.EINTR)
                {
                    continue;
                }
                Environment.FailFast($"epoll_wait failed: errno {errno}");
            }
            var slots = Volatile.Read(ref _slots);
            for (int i = 0; i < count; i++)
            {
                byte* ev = events + i * size;
                uint flags = *(uint*)ev;
                ulong data = *(ulong*)(ev + dataOffset);
                int index = (int)(uint)data;
                if ((uint)index >= (uint)slots.Length)
                {
                    // Registered after this batch's array was read (its slot is written before epoll_ctl).
                    slots = Volatile.Read(ref _slots);
                    if ((uint)index >= (uint)slots.Length)
                    {
                        continue;
                    }
                }
                var connection = Volatile.Read(ref slots[index]);
                if (connection is not null && connection.EpollToken == (uint)(data >> 32))
                {
                    try
                    {
                        connection.OnEpollEvent(flags);
                    }
                    catch (Exception ex)
                    {
                        // A bug, not a network event: that connection cannot be trusted, the loop's others can.
                        System.Diagnostics.Debug.Fail(ex.ToString());
                        connection.Abort();
                    }
                }
            }
        }
    }
}
