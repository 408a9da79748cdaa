using HttpSysLite.Transport;
using HttpSysLite.Transport.Service;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HttpSysLite.Driver;

/// <summary>
/// The driver process's one service: the driver with its channel socket. It starts listening when the
/// host starts and, on SIGTERM or Ctrl+C, stops: no new app process can attach, and each attached one
/// sees its channel end (their requests in flight are answered 503 if not started, else cut off).
/// </summary>
internal sealed class DriverHost(IConfiguration configuration, ILogger<DriverHost> logger) : IHostedService
{
    /// <summary>Where the socket goes when --socket is not given (the systemd unit's path).</summary>
    public const string DefaultSocket = "/run/httpsyslite/driver.sock";

    private DriverService? _service;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        string socket = configuration["socket"] ?? DefaultSocket;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(socket));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var driver = HttpDriver.Shared;
        driver.ConnectionError += error => logger.LogError(error, "Unexpected error in a connection loop.");
        driver.TlsFailure += message => logger.LogWarning("{Message}", message);
        string? config = configuration["config"] is { Length: > 0 } path ? Path.GetFullPath(path) : null;
        var service = new DriverService(driver, socket, config);
        service.Message += message => logger.LogInformation("{Message}", message);
        service.Start();
        _service = service;
        logger.LogInformation("The HttpSysLite driver is listening for app processes at {Socket} (pid {Pid}); {Count} URL reservation(s) from {Config}.",
            socket, Environment.ProcessId, service.Reservations.List().Count, config ?? "nowhere (state in memory)");
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_service is not null)
        {
            logger.LogInformation("Stopping: {Count} app process(es) attached.", _service.ChannelCount);
            await _service.DisposeAsync().ConfigureAwait(false);
        }
    }
}
