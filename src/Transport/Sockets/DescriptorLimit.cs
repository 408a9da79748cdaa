using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE), which bounds its sockets: a server that lets
/// connections take every descriptor leaves none for the runtime, which then cannot start a thread and
/// ends the process ("Out of memory."). The default connection limit keeps a reserve below it.
/// </summary>
internal static partial class DescriptorLimit
{
    /// <summary>Descriptors kept for the runtime, log files and the app: a tenth of the limit, at least this many.</summary>
    public const int MinimumReserve = 256;

    /// <summary>The soft limit, or null where it cannot be read (Windows) or is unlimited.</summary>
    public static long? Current()
    {
        int resource;
        if (OperatingSystem.IsLinux())
        {
            resource = 7; // RLIMIT_NOFILE
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            resource = 8;
        }
        else
        {
            return null;
        }
        try
        {
            if (getrlimit(resource, out var limit) != 0 || limit.Current > long.MaxValue / 2)
            {
                return null; // RLIM_INFINITY, or an error: nothing to keep a reserve from
            }
            return (long)limit.Current;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// The connection limit a port gets when MaxConnections is not set: the open-file limit less a
    /// reserve of a tenth of it and at least <see cref="MinimumReserve"/>, never below 1; null when the
    /// limit is unknown or unlimited.
    /// </summary>
    public static long? DefaultMaxConnections(long? limit)
    {
        if (limit is not long value)
        {
            return null;
        }
        return Math.Max(1, value - Math.Max(MinimumReserve, value / 10));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out ResourceLimit limit);
}
