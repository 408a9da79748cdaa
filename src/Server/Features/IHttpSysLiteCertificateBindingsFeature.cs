namespace HttpSysLite.Features;

/// <summary>
/// The server feature that changes SSL certificate bindings while the server runs, with no restart
/// (HTTP.sys's dynamic bindings): new handshakes use the change, open connections keep their
/// certificate. Get it from <c>IServer.Features</c>.
/// </summary>
public interface IHttpSysLiteCertificateBindingsFeature
{
    /// <summary>The bindings in force, as netsh names their endpoints ("ipport=0.0.0.0:443", ...).</summary>
    IReadOnlyList<string> Endpoints { get; }

    /// <summary>Adds a binding, or replaces the one of the same endpoint. Throws <see cref="InvalidOperationException"/> naming it when its certificate cannot serve.</summary>
    void Set(SslCertificateBinding binding);

    /// <summary>Removes the binding of <paramref name="binding"/>'s endpoint (only the endpoint is read); false when there was none.</summary>
    bool Remove(SslCertificateBinding binding);
}
