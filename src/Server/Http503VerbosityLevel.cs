namespace HttpSysLite;

/// <summary>What a client gets when its request cannot be queued (the HttpSys enum of the same name).</summary>
public enum Http503VerbosityLevel
{
    /// <summary>The connection is reset, no response (HTTP.sys's and HttpSys's default).</summary>
    Basic,
    /// <summary>"503 Service Unavailable".</summary>
    Limited,
    /// <summary>503 with a reason phrase that says why (queue full, queue timeout).</summary>
    Full,
}
