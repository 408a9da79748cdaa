using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Routing;
using Microsoft.AspNetCore.Hosting.Server;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The app-invocation policy, every outcome in one place:
///  - a request arriving while the server stops: 503 with Connection: close, the app never runs;
///  - the app throws before the response started: 500 (or the status of a BadHttpRequestException), empty body;
///  - the app throws after it started: the connection is aborted, as a truncated response must not look whole;
///  - OnStarting callbacks run before the head, OnCompleted after the response, each last-registered first.
/// </summary>
internal sealed class ApplicationDispatcher<TContext> : IRequestQueueHandler
    where TContext : notnull
{
    private readonly HttpSysLiteServer _server;
    private readonly IHttpApplication<TContext> _application;

    public ApplicationDispatcher(HttpSysLiteServer server, IHttpApplication<TContext> application)
    {
        _server = server;
        _application = application;
    }

    public ValueTask ProcessRequestAsync(RequestContext request) => ProcessRequestAsync((IQueuedRequest)request);

    /// <summary>Runs the app for one request, from an in-process queue or a channel to the driver's process.</summary>
    public async ValueTask ProcessRequestAsync(IQueuedRequest request)
    {
        // One context per connection and server, reused for each keep-alive request.
        if (request.ServerState is not HttpSysLiteContext<TContext> context || !ReferenceEquals(context.Server, _server))
        {
            context = new HttpSysLiteContext<TContext>(_server, request);
            request.ServerState = context;
        }
        context.Initialize();
        _server.RequestStarted();
        try
        {
            if (_server.IsStopping)
            {
                await context.SendServiceUnavailableAsync().ConfigureAwait(false);
                return;
            }

            var application = _application.CreateContext(context);
            Exception? error = null;
            try
            {
                await _application.ProcessRequestAsync(application).ConfigureAwait(false);
                await context.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ex;
                await context.OnApplicationErrorAsync(ex).ConfigureAwait(false);
            }
            finally
            {
                await context.FireOnCompletedAsync().ConfigureAwait(false);
                _application.DisposeContext(application, error);
            }
        }
        finally
        {
            _server.RequestFinished();
        }
    }
}
