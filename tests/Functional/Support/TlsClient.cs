using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>A raw SslStream client for the TLS tests: a handshake with the options a test varies, then HTTP/1.1 by hand.</summary>
public static class TlsClient
{
    /// <summary>
    /// A port free on both the IPv4 and IPv6 wildcards, for a prefix that names its port before the server
    /// binds. Chosen below the kernel's ephemeral range (ip_local_port_range starts at 32768 by default):
    /// a port the kernel handed out for the probe is one it may hand a client's outgoing connection next,
    /// and a server then finds it taken (seen with 10,000 loopback clients open on the machine).
    /// </summary>
    public static int FreePort()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20000, 32000);
            try
            {
                using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                probe.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException("No free port in 20000-31999 after 200 tries.");
    }

    /// <summary>
    /// A handshake: the connection and the server certificate's subject, or (null, "failed"). A client
    /// certificate, when given, is offered whenever the server asks, in the handshake or after it.
    /// </summary>
    public static async Task<(RawConnection? Connection, string Subject)> HandshakeAsync(int port, string? serverName, X509Certificate2? clientCertificate = null,
        IPAddress? address = null, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13)
    {
        var tcp = new TcpClient(AddressFamily.InterNetworkV6) { Client = { DualMode = true } };
        await tcp.ConnectAsync(address ?? IPAddress.Loopback, port);
        X509Certificate? seen = null;
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName ?? "",
                RemoteCertificateValidationCallback = (_, certificate, _, _) => { seen = certificate; return true; },
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
                EnabledSslProtocols = protocols,
            }).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            ssl.Dispose();
            return (null, "failed");
        }
        return (RawConnection.Over(ssl), X509CertificateLoader.LoadCertificate(seen!.GetRawCertData()).GetNameInfo(X509NameType.SimpleName, false));
    }

    /// <summary>A GET on a connection whose handshake must have succeeded.</summary>
    public static async Task<RawResponse> GetAsync(RawConnection? connection, string path, string host = "localhost")
    {
        Assert.NotNull(connection); // the handshake before it succeeded
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        return await connection.ReadResponseAsync();
    }
}
