namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// The sample's and the driver tool's built files, copied once per test run into a directory every user
/// may read, so a process run as a test's Unix user can load them wherever the clone lives (a checkout
/// under /root is not readable by other users). Removed when the test process exits.
/// </summary>
public static class ReadableBuild
{
    private static readonly Lazy<string> s_directory = new(() => OperatingSystem.IsWindows()
        ? throw new PlatformNotSupportedException("Unix users exist only on Unix.")
        : Copy());

    /// <summary>The directory with MinimalApi.dll, HttpSysLite.Driver.dll and what they load.</summary>
    public static string Directory => s_directory.Value;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string Copy()
    {
        string target = System.IO.Directory.CreateTempSubdirectory("httpsyslite-build-").FullName;
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(target, readable);
        foreach (string file in System.IO.Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            string name = Path.GetFileName(file);
            if (name.StartsWith("MinimalApi.", StringComparison.Ordinal) || name.StartsWith("HttpSysLite.Driver.", StringComparison.Ordinal)
                || name is "HttpSysLite.dll" or "HttpSysLite.Transport.dll")
            {
                string copy = Path.Combine(target, name);
                File.Copy(file, copy);
                File.SetUnixFileMode(copy, readable & ~(UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));
            }
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(target, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return target;
    }
}
