namespace HttpSysLite.Transport.Http;

/// <summary>
/// Thrown by the driver's body reader when the request can no longer be read (bad framing, too large,
/// cut short). The server turns it into ASP.NET Core's BadHttpRequestException.
/// </summary>
public sealed class RequestRejectedException : IOException
{
    /// <summary>Creates the exception for a reason.</summary>
    public RequestRejectedException(RequestRejectionReason reason)
        : base(RequestRejection.Describe(reason)) => Reason = reason;

    /// <summary>Why the request was rejected.</summary>
    public RequestRejectionReason Reason { get; }

    /// <summary>The status code that answers this rejection.</summary>
    public int StatusCode => RequestRejection.StatusCode(Reason);
}
