namespace HttpSysLite.Transport;

/// <summary>
/// What the listeners of one port share: the settings their connections run under and the count of
/// open connections that <see cref="ConnectionSettings.MaxConnections"/> bounds. Survives a rebind of
/// the port's listeners.
/// </summary>
internal sealed class PortBinding
{
    private int _connections;

    public PortBinding(int port, ConnectionSettings settings, Tls.CertificateBindings? certificates = null, Action<string>? reportTlsFailure = null)
    {
        Port = port;
        PortTag = port;
        Settings = settings;
        Certificates = certificates;
        _reportTlsFailure = reportTlsFailure;
    }

    private readonly Action<string>? _reportTlsFailure;

    /// <summary>A TLS port's certificate bindings (the driver's); null for a plain port. A port is one or the other, as in HTTP.sys.</summary>
    public Tls.CertificateBindings? Certificates { get; }

    /// <summary>True for a TLS (https) port.</summary>
    public bool IsTls => Certificates is not null;

    /// <summary>Logs a TLS failure the operator can fix (no binding for an endpoint).</summary>
    public void ReportTlsFailure(string message) => _reportTlsFailure?.Invoke(message);

    public int Port { get; }

    /// <summary>The port boxed once, for metric tags (server.port).</summary>
    public object PortTag { get; }

    public ConnectionSettings Settings { get; }

    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Counts a new connection; false when that goes past the limit (the caller still calls <see cref="Release"/>).</summary>
    public bool TryAdmit()
    {
        int count = Interlocked.Increment(ref _connections);
        return Settings.MaxConnections is not long max || count <= max;
    }

    public void Release() => Interlocked.Decrement(ref _connections);
}
