namespace HttpSysLite.Features;

/// <summary>
/// Per-response HttpSysLite settings, on the request's features (<c>HttpContext.Features</c>).
/// </summary>
public interface IHttpSysLiteResponseFeature
{
    /// <summary>
    /// HTTP.sys's HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA for this response, starting from
    /// <see cref="Microsoft.AspNetCore.Server.HttpSys.HttpSysOptions.EnableKernelResponseBuffering"/>. True: a body write completes once
    /// copied into the connection's bounded send buffer. False: once no more than a small window of the
    /// response is unacknowledged by the client. Takes effect from the next write;
    /// <c>IHttpResponseBodyFeature.DisableBuffering()</c> sets it to false, as on HttpSys.
    /// </summary>
    bool EnableKernelResponseBuffering { get; set; }
}
