namespace HttpSysLite.Transport.Routing;

/// <summary>How the driver turns a request away when its queue cannot take it (HTTP.sys's 503 verbosity).</summary>
public enum ServiceUnavailableMode
{
    /// <summary>Reset the connection, no response (HTTP.sys Basic, its default).</summary>
    Reset,
    /// <summary>"503 Service Unavailable" (HTTP.sys Limited).</summary>
    Status,
    /// <summary>503 with a reason phrase that says why (HTTP.sys Full).</summary>
    StatusWithReason,
}
