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
/// Listening sockets are watched too: a new connection is accepted, registered and started on a loop
/// thread, with no hand-off between the accept and the first read.
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;

    private static EpollLoop[]? s_loops;
    private static int s_next;

    private readonly int _epfd;
    private readonly object _gate = new();
    private IEpollRegistration?[] _slots = new IEpollRegistration?[256];
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
    public static bool OnLoopThread => IoLoopThread.IsCurrent;

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

    /// <summary>
    /// Starts watching <paramref name="fd"/> for <paramref name="events"/>; they arrive in
    /// <see cref="IEpollRegistration.OnEpollEvent"/> on this loop's thread.
    /// </summary>
    public void Register(IEpollRegistration registration, int fd, uint events)
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
            Volatile.Write(ref _slots[index], registration);
        }
        registration.EpollSlot = index;
        registration.EpollToken = token;
        int error = EpollInterop.Control(_epfd, EpollInterop.EPOLL_CTL_ADD, fd, events, ((ulong)token << 32) | (uint)index);
        if (error != 0)
        {
            Unregister(registration);
            throw new System.Net.Sockets.SocketException(error);
        }
    }

    /// <summary>Changes the events watched for a registered descriptor (0 stops its events until changed again); 0 or errno.</summary>
    public int Modify(IEpollRegistration registration, int fd, uint events) =>
        EpollInterop.Control(_epfd, EpollInterop.EPOLL_CTL_MOD, fd, events, ((ulong)registration.EpollToken << 32) | (uint)registration.EpollSlot);

    /// <summary>
    /// Frees the registration's slot once its descriptor is closed (closing removes it from epoll). An
    /// event already taken from epoll for it finds the slot empty or holding another token, and is dropped.
    /// </summary>
    public void Unregister(IEpollRegistration registration)
    {
        lock (_gate)
        {
            int index = registration.EpollSlot;
            if (index >= 0 && ReferenceEquals(_slots[index], registration))
            {
                Volatile.Write(ref _slots[index], null);
                _free.Push(index);
            }
            registration.EpollSlot = -1;
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
        _ = IoLoopThread.Enter();
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
                var registration = Volatile.Read(ref slots[index]);
                if (registration is not null && registration.EpollToken == (uint)(data >> 32))
                {
                    try
                    {
                        registration.OnEpollEvent(flags);
                    }
                    catch (Exception ex)
                    {
                        System.Diagnostics.Debug.Fail(ex.ToString());
                        registration.OnEpollEventFailed(ex);
                    }
                }
            }
        }
    }
}
