using System.Diagnostics;
using System.Globalization;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// A real Unix user made for one test (useradd; the tests run as root), optionally in a new group of its
/// own, with no home and no login shell; disposing deletes both (userdel, groupdel). Processes run as it
/// through setpriv (util-linux), with its supplementary groups.
/// </summary>
public sealed class UnixUser : IDisposable
{
    private UnixUser(string name, uint uid, uint gid, string? group)
    {
        Name = name;
        Uid = uid;
        Gid = gid;
        Group = group;
    }

    public string Name { get; }

    public uint Uid { get; }

    public uint Gid { get; }

    /// <summary>The supplementary group made with the user, if asked for.</summary>
    public string? Group { get; }

    /// <summary>Makes a user; with <paramref name="withGroup"/>, also a group it is a member of (not its primary group).</summary>
    public static UnixUser Create(bool withGroup = false)
    {
        string suffix = Guid.NewGuid().ToString("n")[..8];
        string name = $"hsl{suffix}";
        string? group = withGroup ? $"hslg{suffix}" : null;
        if (group is not null)
        {
            Run("groupadd", group);
        }
        Run("useradd", $"--no-create-home --shell /usr/sbin/nologin --user-group {(group is null ? "" : $"--groups {group} ")}{name}");
        uint uid = uint.Parse(Run("id", $"-u {name}").Trim(), CultureInfo.InvariantCulture);
        uint gid = uint.Parse(Run("id", $"-g {name}").Trim(), CultureInfo.InvariantCulture);
        return new UnixUser(name, uid, gid, group);
    }

    /// <summary>The command line that runs <paramref name="file"/> as this user.</summary>
    public (string File, string Arguments) Wrap(string file, string arguments) =>
        ("setpriv", $"--reuid={Uid} --regid={Gid} --init-groups env HOME=/tmp DOTNET_CLI_HOME=/tmp {file} {arguments}");

    public void Dispose()
    {
        Run("userdel", Name, check: false);
        if (Group is not null)
        {
            Run("groupdel", Group, check: false);
        }
    }

    private static string Run(string file, string arguments, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {error}");
        }
        return output;
    }
}
