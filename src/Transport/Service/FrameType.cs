namespace HttpSysLite.Transport.Service;

/// <summary>
/// What a frame on a driver channel carries (docs/design.md section 10), named for the HTTP Server
/// API call each stands for. The numbers are the wire's: append, never renumber.
/// </summary>
public enum FrameType : byte
{
    /// <summary>App to driver, first on a channel: the protocol version the app speaks.</summary>
    Hello = 1,

    /// <summary>App to driver: create or attach to a request queue (HttpCreateRequestQueue), with its prefixes.</summary>
    OpenQueue = 2,

    /// <summary>Driver to app: the queue is open, or why it is not.</summary>
    QueueOpened = 3,

    /// <summary>App to driver: register one more prefix (HttpAddUrlToUrlGroup).</summary>
    AddPrefix = 4,

    /// <summary>App to driver: release a prefix (HttpRemoveUrlFromUrlGroup).</summary>
    RemovePrefix = 5,

    /// <summary>App to driver: hand this process no new requests (the first step of a graceful stop).</summary>
    Detach = 6,

    /// <summary>App to driver: the process leaves the queue (HttpShutdownRequestQueue for the last one).</summary>
    CloseQueue = 7,

    /// <summary>Driver to app: after a Detach, no request follows this frame (those before it are the app's to finish).</summary>
    Detached = 8,

    /// <summary>Administration client to driver: one verb (`httpsyslite urlacl add ...`), as JSON (<see cref="ControlRequest"/>).</summary>
    Control = 9,

    /// <summary>Driver to administration client: the verb's outcome (<see cref="ControlReply"/>).</summary>
    ControlReply = 10,

    /// <summary>Driver to app: a request's head (HttpReceiveHttpRequest).</summary>
    Request = 16,

    /// <summary>App to driver: a credit of body bytes the app will take (HttpReceiveRequestEntityBody).</summary>
    ReadBody = 17,

    /// <summary>Driver to app: request body bytes, never more than the credit.</summary>
    BodyData = 18,

    /// <summary>Driver to app: the body is whole, with its trailer fields.</summary>
    BodyEnd = 19,

    /// <summary>Driver to app: the body failed (the rejection), as the in-process read would have thrown.</summary>
    BodyFailed = 20,

    /// <summary>App to driver: the response head (HttpSendHttpResponse).</summary>
    ResponseHead = 32,

    /// <summary>App to driver: response body bytes, never more than the driver granted (HttpSendResponseEntityBody).</summary>
    ResponseData = 33,

    /// <summary>App to driver: the response is complete, with its trailers.</summary>
    ResponseEnd = 34,

    /// <summary>App to driver: abort the request (HttpCancelHttpRequest).</summary>
    Abort = 35,

    /// <summary>Driver to app: n more response bytes may be sent.</summary>
    SendCredit = 36,

    /// <summary>Driver to app: the client is gone or the driver aborted the request (HttpWaitForDisconnect).</summary>
    Aborted = 37,

    /// <summary>
    /// App to driver, after a 101 response head: the connection is the app's bytes from now on. Both ways
    /// they cross as body frames under the same credits (ReadBody/BodyData in, ResponseData/SendCredit
    /// out), and BodyEnd is the client's FIN.
    /// </summary>
    Upgrade = 38,

    /// <summary>App to driver: hand the request to another queue's prefix (HttpDelegateRequestEx): queue name, then prefix.</summary>
    Delegate = 39,

    /// <summary>App to driver: ask the client for its certificate now (HttpReceiveClientCertificate).</summary>
    ClientCertificate = 40,

    /// <summary>Driver to app: the answer to ClientCertificate: a status byte (0 a certificate, 1 none, 2 failed), then its DER bytes or the failure's text.</summary>
    Certificate = 41,
}
