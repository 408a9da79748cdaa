using System.Globalization;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Who may attach to a request queue: the discretionary access list of an SDDL security descriptor
/// ("D:(A;;GA;;;S-1-22-1-1001)(A;;GA;;;S-1-22-2-100)"), HTTP.sys's queue security, with Unix users and
/// groups as SIDs the way Samba maps them: S-1-22-1-UID is a user, S-1-22-2-GID a group; WD (Everyone,
/// S-1-1-0) is everyone, SY and BA (S-1-5-18, S-1-5-32-544) are root. Allow (A) and deny (D) entries;
/// a deny wins, as in a Windows DACL read in canonical order. root may always attach (the administrator,
/// as for registrations). Rights are not told apart: any allowed right admits an attach.
/// </summary>
public sealed class QueueAccessList
{
    private readonly List<(bool Allow, Kind Kind, uint Id)> _entries;

    private enum Kind
    {
        Everyone,
        User,
        Group,
    }

    private QueueAccessList(List<(bool, Kind, uint)> entries, string sddl)
    {
        _entries = entries;
        Sddl = sddl;
    }

    /// <summary>The descriptor as given.</summary>
    public string Sddl { get; }

    /// <summary>Parses the DACL of <paramref name="sddl"/>.</summary>
    /// <exception cref="FormatException">It is not an SDDL descriptor with a DACL of A/D entries for SIDs this driver maps (the message says which part).</exception>
    public static QueueAccessList Parse(string sddl)
    {
        int dacl = sddl.IndexOf("D:", StringComparison.Ordinal);
        if (dacl < 0)
        {
            throw new FormatException($"The security descriptor '{sddl}' has no DACL (D:...): give one, for example D:(A;;GA;;;S-1-22-1-1001).");
        }
        var entries = new List<(bool, Kind, uint)>();
        int i = dacl + 2;
        // DACL flags (P, AI, AR) may come before the first entry.
        while (i < sddl.Length && sddl[i] != '(' && sddl[i] != ':')
        {
            i++;
        }
        while (i < sddl.Length && sddl[i] == '(')
        {
            int end = sddl.IndexOf(')', i);
            if (end < 0)
            {
                throw new FormatException($"The entry at {i} of '{sddl}' is not closed with ')'.");
            }
            string ace = sddl[(i + 1)..end];
            var fields = ace.Split(';');
            if (fields.Length != 6 || fields[0] is not ("A" or "D"))
            {
                throw new FormatException($"'({ace})' is not an allow (A) or deny (D) entry of six fields, like (A;;GA;;;S-1-22-1-1001).");
            }
            var (kind, id) = Principal(fields[5]) ?? throw new FormatException(
                $"'{fields[5]}' in '({ace})' is not a SID this driver maps to Unix: S-1-22-1-UID (a user), S-1-22-2-GID (a group), WD, SY or BA.");
            entries.Add((fields[0] == "A", kind, id));
            i = end + 1;
        }
        return new QueueAccessList(entries, sddl);
    }

    /// <summary>True when the process (<paramref name="uid"/>, in <paramref name="groups"/>) may attach.</summary>
    public bool Admits(uint uid, IReadOnlyList<uint> groups)
    {
        if (uid == 0)
        {
            return true;
        }
        bool allowed = false;
        foreach (var (allow, kind, id) in _entries)
        {
            bool matches = kind switch
            {
                Kind.Everyone => true,
                Kind.User => id == uid,
                _ => groups.Contains(id),
            };
            if (matches && !allow)
            {
                return false;
            }
            allowed |= matches;
        }
        return allowed;
    }

    /// <summary>The SID of a Unix user, as Samba writes it.</summary>
    public static string UserSid(uint uid) => "S-1-22-1-" + uid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The SID of a Unix group, as Samba writes it.</summary>
    public static string GroupSid(uint gid) => "S-1-22-2-" + gid.ToString(CultureInfo.InvariantCulture);

    private static (Kind, uint)? Principal(string sid)
    {
        switch (sid)
        {
            case "WD" or "S-1-1-0":
                return (Kind.Everyone, 0);
            case "SY" or "BA" or "S-1-5-18" or "S-1-5-32-544":
                return (Kind.User, 0);
        }
        if (sid.StartsWith("S-1-22-1-", StringComparison.Ordinal) && uint.TryParse(sid.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
        {
            return (Kind.User, uid);
        }
        if (sid.StartsWith("S-1-22-2-", StringComparison.Ordinal) && uint.TryParse(sid.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
        {
            return (Kind.Group, gid);
        }
        return null;
    }
}
