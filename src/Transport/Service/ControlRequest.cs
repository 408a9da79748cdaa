namespace HttpSysLite.Transport.Service;

/// <summary>
/// One administration verb for the running driver (<see cref="FrameType.Control"/>, JSON), as
/// `httpsyslite` takes it on its command line: the verb ("urlacl add", "show servicestate") and its
/// key=value arguments, netsh's way.
/// </summary>
public sealed record ControlRequest
{
    /// <summary>The verb: "urlacl add", "urlacl delete", "show urlacl", "show servicestate".</summary>
    public string Verb { get; init; } = "";

    /// <summary>The verb's key=value arguments (url, user, group).</summary>
    public Dictionary<string, string> Arguments { get; init; } = new(StringComparer.OrdinalIgnoreCase);
}
