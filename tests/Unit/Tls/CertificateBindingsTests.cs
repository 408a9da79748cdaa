using System.Net;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Tls;
using Microsoft.Extensions.Time.Testing;

namespace HttpSysLite.Tests.Unit.Tls;

/// <summary>The certificate binding table: HTTP.sys's three kinds, their precedence, checks and live changes.</summary>
public sealed class CertificateBindingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("httpsyslite-certs-").FullName;
    private readonly FakeTimeProvider _time = new();
    private readonly CertificateBindings _bindings;

    public CertificateBindingsTests() => _bindings = new CertificateBindings(new MillisecondClock(_time));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private CertificateBinding Pem(CertificateBindingKind kind, string subject, int port = 443, IPAddress? address = null, string? host = null)
    {
        var (certificate, key) = TestCertificates.WritePem(TestCertificates.Create(subject), _directory, subject + "-" + Guid.NewGuid().ToString("n"));
        return new CertificateBinding { Kind = kind, Port = port, Address = address, Hostname = host, Path = certificate, KeyPath = key };
    }

    private string? Subject(int port, IPAddress local, string? sni) =>
        _bindings.Select(port, local, sni)?.Context.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false);

    [Fact]
    public void PrecedenceIsHostnameThenCentralStoreThenExactAddressThenWildcard()
    {
        var store = Directory.CreateDirectory(Path.Combine(_directory, "store")).FullName;
        TestCertificates.WritePfx(TestCertificates.Create("stored.example"), store, "stored.example");
        TestCertificates.WritePfx(TestCertificates.Create("named.example"), store, "named.example");
        _bindings.Set(Pem(CertificateBindingKind.IpPort, "any4", address: IPAddress.Any));
        _bindings.Set(Pem(CertificateBindingKind.IpPort, "any6", address: IPAddress.IPv6Any));
        _bindings.Set(Pem(CertificateBindingKind.IpPort, "exact", address: IPAddress.Parse("10.1.2.3")));
        _bindings.Set(new CertificateBinding { Kind = CertificateBindingKind.CentralStorePort, Port = 443, Directory = store });
        _bindings.Set(Pem(CertificateBindingKind.HostnamePort, "hostname", host: "named.example"));

        var v4 = IPAddress.Parse("10.1.2.3");
        Assert.Equal("hostname", Subject(443, v4, "NAMED.example")); // before the store's own named.example
        Assert.Equal("stored.example", Subject(443, v4, "stored.example"));
        Assert.Equal("exact", Subject(443, v4, "nothing-for-this.example"));
        Assert.Equal("exact", Subject(443, v4, null));
        Assert.Equal("any4", Subject(443, IPAddress.Parse("10.9.9.9"), null));
        Assert.Equal("any6", Subject(443, IPAddress.IPv6Loopback, null));
        Assert.Null(Subject(8443, v4, "named.example")); // nothing on another port
        Assert.Equal("exact", Subject(443, v4, "../store/stored.example")); // an SNI name is never a path into the store

        Assert.True(_bindings.Remove(new CertificateBinding { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.IPv6Any }));
        Assert.Equal("any4", Subject(443, IPAddress.IPv6Loopback, null)); // the other family's wildcard, failing our own
        Assert.False(_bindings.Remove(new CertificateBinding { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.IPv6Any }));
    }

    [Fact]
    public void SettingTheSameEndpointReplacesItsCertificate()
    {
        _bindings.Set(Pem(CertificateBindingKind.IpPort, "first", address: IPAddress.Any));
        Assert.Equal("first", Subject(443, IPAddress.Loopback, null));
        _bindings.Set(Pem(CertificateBindingKind.IpPort, "second", address: IPAddress.Any));
        Assert.Equal("second", Subject(443, IPAddress.Loopback, null));
        Assert.Single(_bindings.All);
    }

    [Fact]
    public void AFileThatChangesOnDiskIsReloadedAtTheNextCheck()
    {
        var (certificate, key) = TestCertificates.WritePem(TestCertificates.Create("old"), _directory, "renewed");
        _bindings.Set(new CertificateBinding { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = certificate, KeyPath = key });
        Assert.Equal("old", Subject(443, IPAddress.Loopback, null));

        TestCertificates.WritePem(TestCertificates.Create("new"), _directory, "renewed");
        File.SetLastWriteTimeUtc(certificate, DateTime.UtcNow.AddSeconds(5)); // a renewal is later, even within the file system's granularity
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("new", Subject(443, IPAddress.Loopback, null));

        // A renewal that cannot load keeps the certificate that works, and says so.
        var failures = new List<string>();
        _bindings.LoadFailed += (endpoint, _) => failures.Add(endpoint);
        File.WriteAllText(certificate, "not a certificate");
        File.SetLastWriteTimeUtc(certificate, DateTime.UtcNow.AddSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("new", Subject(443, IPAddress.Loopback, null));
        Assert.Equal(["ipport=0.0.0.0:443"], failures);
    }

    [Fact]
    public void TheDriverReportsARenewalThatCannotLoad()
    {
        using var driver = new HttpDriver(_time);
        var reported = new List<string>();
        driver.TlsFailure += reported.Add;
        var (certificate, key) = TestCertificates.WritePem(TestCertificates.Create("kept"), _directory, "driver-renewed");
        driver.Certificates.Set(new CertificateBinding { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = certificate, KeyPath = key });
        File.WriteAllText(certificate, "half written");
        File.SetLastWriteTimeUtc(certificate, DateTime.UtcNow.AddSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(driver.Certificates.Select(443, IPAddress.Loopback, null));
        Assert.Contains("ipport=0.0.0.0:443", Assert.Single(reported));
    }

    [Fact]
    public void ABindingThatCannotServeIsRefusedNamingItsEndpoint()
    {
        var expired = TestCertificates.Create("expired", DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        var (expiredPath, expiredKey) = TestCertificates.WritePem(expired, _directory, "expired");
        var ex = Assert.Throws<InvalidOperationException>(() => _bindings.Set(new CertificateBinding
        { Kind = CertificateBindingKind.HostnamePort, Port = 443, Hostname = "www.example.com", Path = expiredPath, KeyPath = expiredKey }));
        Assert.Contains("hostnameport=www.example.com:443", ex.Message);
        Assert.Contains("expired", ex.Message);

        string keyless = TestCertificates.WriteCertificateOnly(TestCertificates.Create("keyless"), _directory, "keyless");
        ex = Assert.Throws<InvalidOperationException>(() => _bindings.Set(new CertificateBinding
        { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = keyless }));
        Assert.Contains("ipport=0.0.0.0:443", ex.Message);

        ex = Assert.Throws<InvalidOperationException>(() => _bindings.Set(new CertificateBinding
        { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = Path.Combine(_directory, "missing.pem") }));
        Assert.Contains("cannot be read", ex.Message);

        string pfx = TestCertificates.WritePfx(TestCertificates.Create("locked"), _directory, "locked", password: "right");
        ex = Assert.Throws<InvalidOperationException>(() => _bindings.Set(new CertificateBinding
        { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = pfx, Password = "wrong" }));
        Assert.Contains("cannot be read", ex.Message);
        _bindings.Set(new CertificateBinding { Kind = CertificateBindingKind.IpPort, Port = 443, Address = IPAddress.Any, Path = pfx, Password = "right" });
        Assert.Equal("locked", Subject(443, IPAddress.Loopback, null));

        ex = Assert.Throws<InvalidOperationException>(() => _bindings.Set(new CertificateBinding
        { Kind = CertificateBindingKind.CentralStorePort, Port = 443, Directory = Path.Combine(_directory, "nope") }));
        Assert.Contains("ccs=443", ex.Message);
    }

    [Fact]
    public void TheCentralStoreFindsAFileAddedAfterAMissWithinASecond()
    {
        var store = Directory.CreateDirectory(Path.Combine(_directory, "later")).FullName;
        _bindings.Set(new CertificateBinding { Kind = CertificateBindingKind.CentralStorePort, Port = 443, Directory = store });
        Assert.Null(Subject(443, IPAddress.Loopback, "late.example"));
        TestCertificates.WritePem(TestCertificates.Create("late.example"), store, "late.example");
        Assert.Null(Subject(443, IPAddress.Loopback, "late.example")); // the miss is remembered for a second
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("late.example", Subject(443, IPAddress.Loopback, "late.example"));
    }
}
