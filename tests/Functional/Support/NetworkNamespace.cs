using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// A network namespace of the test's own (ip netns, iproute2; needs root): loopback up, plus one IPv4
/// and one IPv6 address that are not loopback (on lo, as a namespace has no other device), so a
/// wildcard bind is visible beyond loopback there and nowhere else. Processes run inside it with
/// <see cref="Wrap"/>; sockets are made inside it on a thread that joins it (setns). Disposing deletes it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    /// <summary>The namespace's non-loopback IPv4 address (a documentation-range address, RFC 5737).</summary>
    public static readonly IPAddress OtherIPv4 = IPAddress.Parse("192.0.2.10");

    /// <summary>The namespace's non-loopback IPv6 address (the documentation prefix, RFC 3849).</summary>
    public static readonly IPAddress OtherIPv6 = IPAddress.Parse("2001:db8::10");

    private static int s_count;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Null when namespaces can be made here, else why not.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are Linux's";
        }
        if (Environment.UserName != "root")
        {
            return "making a network namespace needs root";
        }
        return File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip") ? null : "iproute2's ip is not installed (.ci/run installs it)";
    }

    public static NetworkNamespace Create()
    {
        string name = $"httpsyslite-{Environment.ProcessId}-{Interlocked.Increment(ref s_count)}";
        var ns = new NetworkNamespace(name);
        Run("ip", $"netns add {name}");
        try
        {
            Run("ip", $"-n {name} link set lo up");
            Run("ip", $"-n {name} addr add {OtherIPv4}/32 dev lo");
            Run("ip", $"-n {name} -6 addr add {OtherIPv6}/128 dev lo nodad");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>The command line that runs <paramref name="command"/> inside the namespace.</summary>
    public (string File, string Arguments) Wrap(string command, string arguments) => ("ip", $"netns exec {Name} {command} {arguments}");

    /// <summary>
    /// Connects to <paramref name="endPoint"/> from inside the namespace: the socket is made on a thread
    /// that joined it, and belongs to it from then on. Null when the connection is refused.
    /// </summary>
    public Socket? TryConnect(IPEndPoint endPoint)
    {
        Socket? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{Name}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns failed: errno {Marshal.GetLastPInvokeError()}");
                }
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Connect(endPoint);
                    result = socket;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.NetworkUnreachable or SocketError.AddressNotAvailable)
                {
                    socket.Dispose();
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        // The thread ends here, in the namespace; no other work ever runs on it.
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "Connecting inside the namespace did not finish within 30 s.");
        if (failure is not null)
        {
            throw new InvalidOperationException($"Could not connect inside {Name}.", failure);
        }
        return result;
    }

    public void Dispose() => Run("ip", $"netns delete {Name}");

    private static void Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"{file} {arguments} did not finish within 30 s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {error}");
        }
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);
}
