using System.Globalization;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Local Unix users and groups by name and id, from /etc/passwd and /etc/group (passwd(5), group(5)),
/// and the groups a running process is in, from /proc (proc(5)). URL reservations name users and groups
/// as administrators type them; the driver decides by ids, as the kernel reports them for a peer. Users
/// that only a directory service knows (NSS, LDAP) are not seen here: reserve by uid for those.
/// </summary>
public static class UnixAccounts
{
    /// <summary>The uid and primary gid of the user <paramref name="name"/>; false if there is no such local user.</summary>
    public static bool TryGetUser(string name, out uint uid, out uint gid)
    {
        foreach (string line in ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uid)
                && uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                return true;
            }
        }
        uid = gid = 0;
        return false;
    }

    /// <summary>The gid of the group <paramref name="name"/>; false if there is no such local group.</summary>
    public static bool TryGetGroup(string name, out uint gid)
    {
        foreach (string line in ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                return true;
            }
        }
        gid = 0;
        return false;
    }

    /// <summary>The name of the user <paramref name="uid"/>, or the number when no local user has it.</summary>
    public static string UserName(uint uid) => NameOf("/etc/passwd", uid);

    /// <summary>The name of the group <paramref name="gid"/>, or the number when no local group has it.</summary>
    public static string GroupName(uint gid) => NameOf("/etc/group", gid);

    /// <summary>
    /// Every group the process <paramref name="processId"/> is in: its gid and its supplementary groups
    /// ("Groups:" in /proc/PID/status). Just <paramref name="primaryGid"/> when /proc cannot tell.
    /// </summary>
    public static uint[] GroupsOf(int processId, uint primaryGid)
    {
        var groups = new List<uint> { primaryGid };
        foreach (string line in ReadLines($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (!line.StartsWith("Groups:", StringComparison.Ordinal))
            {
                continue;
            }
            foreach (string field in line["Groups:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid) && !groups.Contains(gid))
                {
                    groups.Add(gid);
                }
            }
            break;
        }
        return [.. groups];
    }

    private static string NameOf(string file, uint id)
    {
        string number = id.ToString(CultureInfo.InvariantCulture);
        foreach (string line in ReadLines(file))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[2] == number)
            {
                return fields[0];
            }
        }
        return number;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
