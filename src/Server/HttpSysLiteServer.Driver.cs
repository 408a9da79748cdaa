using HttpSysLite.RequestProcessing;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Service;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Logging;
using Http503VerbosityLevel = Microsoft.AspNetCore.Server.HttpSys.Http503VerbosityLevel;

namespace HttpSysLite;

/// <summary>
/// The server with its driver in another process (docs/design.md section 10): the same app, queue and
/// prefixes, opened over a channel to `httpsyslite serve` instead of on the in-process driver.
/// </summary>
public sealed partial class HttpSysLiteServer
{
    /// <summary>The environment variable that names the driver's socket when the options do not.</summary>
    public const string DriverSocketVariable = "HTTPSYSLITE_DRIVER";

    /// <summary>How long a server whose driver went away waits between attempts to reattach.</summary>
    private static readonly TimeSpan ReattachPeriod = TimeSpan.FromMilliseconds(500);

    private DriverClient? _driverClient;
    private Func<CancellationToken, Task<DriverClient>>? _attach;
    private readonly CancellationTokenSource _reattachStop = new();
    private Task? _reattaching;

    /// <summary>The driver's socket, from the options or the environment; null for the in-process driver.</summary>
    private string? DriverSocket =>
        !string.IsNullOrEmpty(Options.DriverSocket) ? Options.DriverSocket
        : Environment.GetEnvironmentVariable(DriverSocketVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : null;

    private ServiceUnavailableMode RejectionMode => Options.Http503Verbosity switch
    {
        Http503VerbosityLevel.Limited => ServiceUnavailableMode.Status,
        Http503VerbosityLevel.Full => ServiceUnavailableMode.StatusWithReason,
        _ => ServiceUnavailableMode.Reset,
    };

    private async Task StartOnDriverAsync<TContext>(IHttpApplication<TContext> application, string socket, List<(string Key, UrlPrefix Prefix)> prefixes,
        CancellationToken cancellationToken)
        where TContext : notnull
    {
        if (Options.SslCertificates.Count > 0)
        {
            // The point of the shared driver: keys stay in it, never in an app process.
            throw new InvalidOperationException(
                $"HttpSysLiteOptions.SslCertificates has {Options.SslCertificates.Count} binding(s), but with the driver at {socket} the certificates are the driver's: " +
                "remove them here and add them there, as root: httpsyslite sslcert add ipport=0.0.0.0:443 certfile=CERT.pem keyfile=KEY.pem");
        }
        var rejection = RejectionMode;
        var names = new string[prefixes.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = prefixes[i].Prefix.FullPrefix;
        }
        var request = new OpenQueueRequest
        {
            Name = Options.RequestQueueName,
            Mode = (RequestQueueMode)Options.RequestQueueMode,
            Owner = $"server '{Options.RequestQueueName ?? "(anonymous queue)"}' (pid {Environment.ProcessId})",
            Prefixes = names,
            Settings = CreateConnectionSettings(rejection),
            QueueLimit = (int)Math.Min(Options.RequestQueueLimit, int.MaxValue),
            QueueTimeout = OrDefault(Options.Timeouts.RequestQueue, RequestQueue.DefaultTimeout),
            RejectionMode = rejection,
            MaxConcurrentRequests = Options.MaxConcurrentRequests,
            SecurityDescriptor = Options.RequestQueueSecurityDescriptorSddl,
        };
        var dispatcher = new ApplicationDispatcher<TContext>(this, application);
        _attach = token => DriverClient.ConnectAsync(socket, request, dispatcher.ProcessRequestAsync, token);
        Attached(await _attach(cancellationToken).ConfigureAwait(false), socket);
        Log.AttachedToDriver(_logger, socket);
    }

    /// <summary>Takes <paramref name="client"/> as this server's channel: its addresses, and a watch for the driver going away.</summary>
    private void Attached(DriverClient client, string socket)
    {
        client.Disconnected += error => OnDriverLost(client, socket, error);
        _driverClient = client;
        _addresses.Addresses.Clear();
        if (!client.Reply.Created)
        {
            Log.AttachedToQueue(_logger, Options.RequestQueueName!);
        }
        foreach (string address in client.Reply.Prefixes)
        {
            _addresses.Addresses.Add(address);
            Log.ListeningOn(_logger, address);
        }
    }

    /// <summary>
    /// The driver stopped or died: its requests here have ended (RequestAborted fired). The server keeps
    /// running and opens its queue again, with the same prefixes and settings, once a driver listens at
    /// the socket again, so a driver restart needs no app restart.
    /// </summary>
    private void OnDriverLost(DriverClient client, string socket, Exception? error)
    {
        Log.DriverDisconnected(_logger, socket, ReattachPeriod.TotalSeconds, error);
        _reattaching = ReattachAsync(client, socket, _reattachStop.Token);
    }

    private async Task ReattachAsync(DriverClient lost, string socket, CancellationToken stop)
    {
        await Task.Yield(); // off the lost channel's reader, which called this
        await lost.DisposeAsync().ConfigureAwait(false);
        string? lastRefusal = null;
        for (int attempt = 1; ; attempt++)
        {
            DriverClient? client = null;
            try
            {
                await Task.Delay(ReattachPeriod, stop).ConfigureAwait(false);
                client = await _attach!(stop).ConfigureAwait(false);
                await _lifecycle.WaitAsync(stop).ConfigureAwait(false);
                try
                {
                    Attached(client, socket);
                }
                finally
                {
                    _lifecycle.Release();
                }
                Log.ReattachedToDriver(_logger, socket, attempt);
                return;
            }
            catch (OperationCanceledException)
            {
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false); // attached just as the server stopped
                }
                return;
            }
            catch (InvalidOperationException ex) when (ex.InnerException is System.Net.Sockets.SocketException)
            {
                // Nobody listens yet.
            }
            catch (InvalidOperationException ex)
            {
                // A driver is back but refused the queue (say another process recreated it first): said once.
                if (ex.Message != lastRefusal)
                {
                    lastRefusal = ex.Message;
                    Log.ReattachRefused(_logger, socket, ex.Message);
                }
            }
        }
    }

    private async Task StopOnDriverAsync(CancellationToken cancellationToken)
    {
        // A reattach in progress ends first: the server is leaving whatever driver there is.
        _reattachStop.Cancel();
        if (_reattaching is { } reattaching)
        {
            await reattaching.ConfigureAwait(false);
        }
        var client = _driverClient!;
        // 1. The queue stops choosing this process; it, its prefixes and its waiting requests stay in the
        // driver for any other process attached to it.
        try
        {
            await client.DetachAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The driver is gone: nothing more will arrive.
        }
        // 2. What this process holds (everything delivered before the driver's confirmation) finishes,
        // until the host's shutdown token fires.
        try
        {
            await client.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.StopTimedOut(_logger, client.ActiveRequests);
        }
        // 3. Leave: requests still here end (answered 503 by the driver if not started, else cut off).
        _stopping = true;
        await client.DisposeAsync().ConfigureAwait(false);
    }
}
