using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.HttpSys;
using static HttpSysLite.Tests.Functional.Support.TlsClient;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// ClientCertificateMethod.AllowRenegotation: the driver asks the client for a certificate when a
/// request calls GetClientCertificateAsync (HTTP.sys's HttpReceiveClientCertificate): TLS 1.2
/// renegotiation, or TLS 1.3 post-handshake authentication. The connection goes on serving afterwards.
/// </summary>
// Not beside each other: both read the process-wide trace events of their client certificates.
[Collection("TlsClientCertificates")]
public class TlsClientCertificateTests : IDisposable
{
    /// <summary>Which of our socket engines carries the TLS connections: epoll on Linux by default.</summary>
    protected virtual ServerKind Kind => ServerKind.HttpSysLite;

    private readonly string _directory = Directory.CreateTempSubdirectory("httpsyslite-clientcert-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Name(X509Certificate2? certificate) => certificate?.GetNameInfo(X509NameType.SimpleName, false) ?? "-";

    private async Task<TestServer> StartAsync(int port, ClientCertificateMethod method, FakeClock? clock = null)
    {
        var (path, key) = TestCertificates.WritePem(TestCertificates.Create("server"), _directory, "server");
        return await TestServer.StartAsync(Kind, app =>
        {
            // What the connection has without asking, then what asking gives. (The lambdas name their
            // return type: an async lambda taking HttpContext would otherwise bind as a RequestDelegate
            // and its string be dropped.)
            app.MapGet("/has", (HttpContext c) => Name(c.Connection.ClientCertificate));
            app.MapGet("/ask", async Task<string> (HttpContext c) => Name(await c.Connection.GetClientCertificateAsync(c.RequestAborted)));
            app.MapPost("/ask-before-reading", async Task<string> (HttpContext c) =>
            {
                try
                {
                    return Name(await c.Connection.GetClientCertificateAsync(c.RequestAborted));
                }
                catch (InvalidOperationException ex)
                {
                    return "refused: " + ex.Message;
                }
            });
            app.MapPost("/ask-after-reading", async Task<string> (HttpContext c) =>
            {
                string body = await new StreamReader(c.Request.Body).ReadToEndAsync();
                return body + " " + Name(await c.Connection.GetClientCertificateAsync(c.RequestAborted));
            });
        }, o =>
        {
            o.ClientCertificateMethod = method;
            o.Timeouts.HeaderWait = TimeSpan.FromSeconds(10);
            o.SslCertificates.Add(new SslCertificateBinding { IpPort = $"0.0.0.0:{port}", Path = path, KeyPath = key });
        }, $"https://+:{port}/", clock is null ? null : clock.Register);
    }

    private static string[] SslEventsOf(TraceRecorder recorder, object connectionId) => recorder.Events
        .Where(e => e.EventName!.StartsWith("Ssl", StringComparison.Ordinal) && Equals(e.Payload("ConnectionId"), connectionId))
        .Select(e => e.EventName!).ToArray();

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task AskingAfterTheHandshakeGetsTheCertificateAndTheConnectionGoesOn(SslProtocols protocol)
    {
        using var recorder = new TraceRecorder();
        int port = FreePort();
        await using var server = await StartAsync(port, ClientCertificateMethod.AllowRenegotation);
        using var certificate = TestCertificates.Create("client.test");
        var (connection, _) = await HandshakeAsync(port, "localhost", certificate, protocols: protocol);
        await using var _ = connection!;

        Assert.Equal("-", (await GetAsync(connection, "/has")).BodyText); // not asked in the handshake
        var asked = await GetAsync(connection, "/ask");
        Assert.Equal(200, asked.StatusCode);
        Assert.Equal("client.test", asked.BodyText);
        // The connection keeps it, and keeps serving.
        Assert.Equal("client.test", (await GetAsync(connection, "/has")).BodyText);
        Assert.Equal("client.test", (await GetAsync(connection, "/ask")).BodyText);

        // Traced as HTTP.sys traces it: the handshake, then the request for a certificate and its answer.
        var asking = recorder.Events.Single(e => e.EventName == "SslRcvdClientCert" && (string)e.Payload("Subject")! == "CN=client.test"
            && recorder.Events.Any(o => o.EventName == "SslInititateSslRcvClientCert" && Equals(o.Payload("ConnectionId"), e.Payload("ConnectionId"))));
        Assert.Equal(["SslInitiateHandshake", "SslHandshakeComplete", "SslInititateSslRcvClientCert", "SslRcvdClientCert"],
            SslEventsOf(recorder, asking.Payload("ConnectionId")!));
    }

    [Fact]
    public async Task AClientThatNeverAnswersIsCutOffByHeaderWaitAndTheConnectionCloses()
    {
        using var recorder = new TraceRecorder();
        var clock = new FakeClock();
        int port = FreePort();
        await using var server = await StartAsync(port, ClientCertificateMethod.AllowRenegotation, clock);
        var (connection, _) = await HandshakeAsync(port, "localhost", protocols: SslProtocols.Tls12);
        await using var _ = connection!;
        // The request goes out and the client reads nothing, so it never sees the server's HelloRequest.
        await connection!.SendAsync("GET /ask HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!recorder.Events.Any(e => e.EventName == "SslInititateSslRcvClientCert"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the server never asked for a certificate");
            await Task.Delay(20);
        }
        clock.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(100);
        Assert.DoesNotContain(recorder.Events, e => e.EventName == "SslRcvClientCertFailed");
        clock.Advance(TimeSpan.FromSeconds(2));
        while (!recorder.Events.Any(e => e.EventName == "SslRcvClientCertFailed"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the wait for the certificate was not cut off");
            await Task.Delay(20);
        }
        Assert.Equal("HeaderWait timed out", recorder.Events.First(e => e.EventName == "SslRcvClientCertFailed").Payload("Reason"));
        // The app saw the failure; the connection is not trusted with another request.
        Assert.True(await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AClientWithNoCertificateIsAskedAndTheAnswerIsNull()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, ClientCertificateMethod.AllowRenegotation);
        var (connection, _) = await HandshakeAsync(port, "localhost", protocols: SslProtocols.Tls12);
        await using var _ = connection!;
        Assert.Equal("-", (await GetAsync(connection, "/ask")).BodyText);
        Assert.Equal("-", (await GetAsync(connection, "/has")).BodyText);
    }

    [Fact]
    public async Task TheBodyMustBeReadFirstAndThenAskingWorks()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, ClientCertificateMethod.AllowRenegotation);
        using var certificate = TestCertificates.Create("client.test");
        var (connection, _) = await HandshakeAsync(port, "localhost", certificate, protocols: SslProtocols.Tls12);
        await using var _ = connection!;

        await connection!.SendAsync("POST /ask-before-reading HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        var refused = await connection.ReadResponseAsync();
        Assert.StartsWith("refused: Read the request body to its end", refused.BodyText);

        await connection.SendAsync("POST /ask-after-reading HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal("hello client.test", (await connection.ReadResponseAsync()).BodyText);
    }

    [Theory]
    [InlineData(ClientCertificateMethod.NoCertificate, "-")]
    [InlineData(ClientCertificateMethod.AllowCertificate, "client.test")]
    public async Task WithoutRenegotiationAskingReturnsWhatTheHandshakeSettled(ClientCertificateMethod method, string expected)
    {
        int port = FreePort();
        await using var server = await StartAsync(port, method);
        using var certificate = TestCertificates.Create("client.test");
        var (connection, _) = await HandshakeAsync(port, "localhost", certificate, protocols: SslProtocols.Tls12);
        await using var _ = connection!;
        Assert.Equal(expected, (await GetAsync(connection, "/ask")).BodyText);
        Assert.Equal(expected, (await GetAsync(connection, "/has")).BodyText);
    }

    [Fact]
    public async Task OpensslRenegotiatesOnRequestOverTls12()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, ClientCertificateMethod.AllowRenegotation);
        using var certificate = TestCertificates.Create("openssl.client");
        var (cert, key) = TestCertificates.WritePem(certificate, _directory, "openssl-client");
        // openssl s_client answers the server's HelloRequest with a new handshake, offering -cert.
        var start = new System.Diagnostics.ProcessStartInfo("openssl",
            $"s_client -connect 127.0.0.1:{port} -tls1_2 -servername localhost -cert {cert} -key {key} -quiet -ign_eof")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync("GET /ask HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await process.StandardInput.FlushAsync();
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("HTTP/1.1 200 OK", output);
        Assert.Contains("\r\nopenssl.client\r\n", output); // the chunk the app wrote
    }
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine under SslStream), which Linux otherwise never runs.</summary>
// Not beside each other: both read the process-wide trace events of their client certificates.
[Collection("TlsClientCertificates")]
public sealed class SocketEngineTlsClientCertificateTests : TlsClientCertificateTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}
