namespace HttpSysLite.Transport.Service;

/// <summary>
/// One URL reservation (`netsh http add urlacl`): the user or group that may register
/// <see cref="Url"/> and any prefix below it. Names are kept as the administrator gave them and ids as
/// they resolved then, so the check needs no lookup and `show urlacl` reads as it was written.
/// </summary>
public sealed record UrlReservation
{
    /// <summary>The reserved URL prefix, as UrlPrefix prints it (http://+:80/app/).</summary>
    public string Url { get; init; } = "";

    /// <summary>The user granted, or null for a group reservation.</summary>
    public string? User { get; init; }

    /// <summary>The user's uid when <see cref="User"/> is set.</summary>
    public uint? Uid { get; init; }

    /// <summary>The group granted, or null for a user reservation.</summary>
    public string? Group { get; init; }

    /// <summary>The group's gid when <see cref="Group"/> is set.</summary>
    public uint? Gid { get; init; }

    /// <summary>The principal as the verbs spell it: user=alice or group=web.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Principal => User is not null ? $"user={User}" : $"group={Group}";
}
