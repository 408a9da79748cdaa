using Microsoft.Extensions.Logging;

namespace HttpSysLite;

public sealed partial class HttpSysLiteServer
{
    internal static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Now listening on: {Prefix}", EventName = "ListeningOn")]
        public static partial void ListeningOn(ILogger logger, string prefix);

        [LoggerMessage(2, LogLevel.Warning, "Overriding address(es) '{Addresses}'. Binding to the prefixes of HttpSysLiteOptions.UrlPrefixes instead.", EventName = "AddressesOverridden")]
        public static partial void AddressesOverridden(ILogger logger, string addresses);

        [LoggerMessage(3, LogLevel.Error, "An unhandled exception was thrown by the application.", EventName = "ApplicationError")]
        public static partial void ApplicationError(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Error, "Unexpected error in a connection loop.", EventName = "ConnectionError")]
        public static partial void ConnectionError(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Stop timed out with {Count} request(s) in flight; aborting them.", EventName = "StopTimedOut")]
        public static partial void StopTimedOut(ILogger logger, int count);

        [LoggerMessage(6, LogLevel.Debug, "The response could not be sent: the client disconnected.", EventName = "WriteFailed")]
        public static partial void WriteFailed(ILogger logger, Exception exception);

        [LoggerMessage(8, LogLevel.Information, "Attached to the request queue '{Name}': its creator's URL prefixes and settings apply.", EventName = "AttachedToQueue")]
        public static partial void AttachedToQueue(ILogger logger, string name);

        [LoggerMessage(9, LogLevel.Warning, "The port of '{Prefix}' was opened by another server with other limits, timeouts or MaxConnections; that server's settings apply to its connections.", EventName = "PortSettingsDiffer")]
        public static partial void PortSettingsDiffer(ILogger logger, string prefix);

        [LoggerMessage(10, LogLevel.Warning, "Another server on this driver set other HttpSysLiteOptions.ResponseCache limits; its limits apply to the shared response cache until every server using them has stopped.", EventName = "CacheSettingsDiffer")]
        public static partial void CacheSettingsDiffer(ILogger logger);

        [LoggerMessage(11, LogLevel.Information, "MaxConnections is not set: each port admits {MaxConnections} connections, the process's open-file limit of {Descriptors} less a reserve for the runtime, logs and the app. Set HttpSysLiteOptions.MaxConnections, or raise the limit (ulimit -n, LimitNOFILE=), to choose another.", EventName = "DefaultMaxConnections")]
        public static partial void DefaultMaxConnections(ILogger logger, long maxConnections, long descriptors);

        [LoggerMessage(12, LogLevel.Error, "The URL prefix '{Prefix}' added to UrlPrefixes was not registered.", EventName = "PrefixRefused")]
        public static partial void PrefixRefused(ILogger logger, string prefix, Exception exception);

        [LoggerMessage(13, LogLevel.Warning, "{Message}", EventName = "TlsFailure")]
        public static partial void TlsFailure(ILogger logger, string message);

        [LoggerMessage(14, LogLevel.Information, "Attached to the HttpSysLite driver at {Socket}: it owns the ports, parses, routes and caches; this process runs the app.", EventName = "AttachedToDriver")]
        public static partial void AttachedToDriver(ILogger logger, string socket);

        [LoggerMessage(15, LogLevel.Error, "The HttpSysLite driver at {Socket} went away: this server takes no requests until it returns, and reattaches then (it tries every {RetrySeconds} s). Restart the driver with `httpsyslite serve --socket {Socket}`.", EventName = "DriverDisconnected")]
        public static partial void DriverDisconnected(ILogger logger, string socket, double retrySeconds, Exception? exception);

        [LoggerMessage(16, LogLevel.Information, "Reattached to the HttpSysLite driver at {Socket} after {Attempts} attempt(s): this server takes requests again.", EventName = "ReattachedToDriver")]
        public static partial void ReattachedToDriver(ILogger logger, string socket, int attempts);

        [LoggerMessage(17, LogLevel.Warning, "The HttpSysLite driver at {Socket} is back but refused this server's request queue ({Reason}); trying again.", EventName = "ReattachRefused")]
        public static partial void ReattachRefused(ILogger logger, string socket, string reason);

        [LoggerMessage(7, LogLevel.Error, "An OnStarting or OnCompleted callback threw.", EventName = "CallbackError")]
        public static partial void CallbackError(ILogger logger, Exception exception);
    }
}
