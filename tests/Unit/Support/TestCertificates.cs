using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>
/// Certificates made at test time (never committed): self-signed ECDSA P-256, for a host name, written
/// as PEM (certificate and key apart, or together) or PFX into a directory the caller deletes.
/// </summary>
public static class TestCertificates
{
    public static X509Certificate2 Create(string subjectName, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subjectName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (System.Net.IPAddress.TryParse(subjectName, out var address))
        {
            names.AddIpAddress(address);
        }
        else
        {
            names.AddDnsName(subjectName);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Writes <paramref name="certificate"/> as <c>name.pem</c> and <c>name.key</c>; returns both paths.</summary>
    public static (string Certificate, string Key) WritePem(X509Certificate2 certificate, string directory, string name)
    {
        string certificatePath = Path.Combine(directory, name + ".pem");
        string keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>Writes <paramref name="certificate"/> with its key as <c>name.pfx</c>.</summary>
    public static string WritePfx(X509Certificate2 certificate, string directory, string name, string? password = null)
    {
        string path = Path.Combine(directory, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }

    /// <summary>Writes only the certificate (no key) as <c>name.pem</c>.</summary>
    public static string WriteCertificateOnly(X509Certificate2 certificate, string directory, string name)
    {
        string path = Path.Combine(directory, name + ".crt.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }
}
