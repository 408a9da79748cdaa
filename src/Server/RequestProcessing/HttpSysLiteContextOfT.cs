using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Routing;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The context typed by the host's context type, so hosting can keep its per-request objects (the
/// HttpContext among them) on the connection and reuse them for each keep-alive request, as it does
/// with Kestrel, instead of allocating them per request.
/// </summary>
internal sealed class HttpSysLiteContext<TContext> : HttpSysLiteContext, IHostContextContainer<TContext>
    where TContext : notnull
{
    public HttpSysLiteContext(HttpSysLiteServer server, IQueuedRequest request)
        : base(server, request)
    {
    }

    public TContext? HostContext { get; set; }

    // Hosting uninitialised its HttpContext when the last request ended; dropped here, it is never bound
    // to another request, so a kept reference keeps throwing ObjectDisposedException.
    protected override void HostContextEnded() => HostContext = default;
}
