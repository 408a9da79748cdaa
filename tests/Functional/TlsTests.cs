using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using HttpSysLite.Features;
using HttpSysLite.Tests.Functional.Support;
using static HttpSysLite.Tests.Functional.Support.TlsClient;
using HttpSysLite.Tests.Unit.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.HttpSys;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// TLS in the driver, HTTP.sys style: https prefixes, certificate bindings by address, SNI name and
/// central store, live changes, client certificates, and what a TLS port does with what is not TLS.
/// Certificates are made at test time, in a directory deleted after.
/// </summary>
public class TlsTests : IDisposable
{
    /// <summary>Which of our socket engines carries the TLS connections: epoll on Linux by default.</summary>
    protected virtual ServerKind Kind => ServerKind.HttpSysLite;

    private readonly string _directory = Directory.CreateTempSubdirectory("httpsyslite-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SslCertificateBinding Pem(string subject, string? ipPort = null, string? hostnamePort = null)
    {
        var (path, key) = TestCertificates.WritePem(TestCertificates.Create(subject), _directory, subject + "-" + Guid.NewGuid().ToString("n"));
        return new SslCertificateBinding { IpPort = ipPort, HostnamePort = hostnamePort, Path = path, KeyPath = key };
    }

    private Task<TestServer> StartAsync(int port, Action<WebApplication> map, Action<HttpSysLiteOptions> options, string? url = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        TestServer.StartAsync(Kind, map, options, url ?? $"https://+:{port}/", services);

    private static void MapDescribe(WebApplication app) => app.MapGet("/describe", (HttpContext c) =>
    {
        var tls = c.Features.Get<ITlsHandshakeFeature>();
        return $"{c.Request.Scheme} {c.Request.IsHttps} {tls?.Protocol is SslProtocols.Tls12 or SslProtocols.Tls13} {tls?.HostName} " +
            $"{c.Features.Get<ITlsConnectionFeature>()?.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, false) ?? "-"}";
    });

    [Fact]
    public async Task AnHttpsPrefixServesOverTlsWithTheBindingsCertificate()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("wildcard", ipPort: $"0.0.0.0:{port}")));
        Assert.Contains($"https://+:{port}/", server.Server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses);

        var (ssl, subject) = await HandshakeAsync(port, "localhost");
        await using var _ = ssl!;
        Assert.Equal("wildcard", subject);
        var response = await GetAsync(ssl, "/describe");
        Assert.Equal("https True True localhost -", response.BodyText);
        // Keep-alive over TLS: a second request on the same connection.
        Assert.Equal(200, (await GetAsync(ssl, "/describe")).StatusCode);

        using var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        Assert.Equal("https True True localhost -", await client.GetStringAsync($"https://localhost:{port}/describe"));
        Assert.Equal("https True True  -", await client.GetStringAsync($"https://127.0.0.1:{port}/describe")); // no SNI for an IP
    }

    [Fact]
    public async Task SniNamesPickTheirCertificatesBeforeTheAddressAndNoMatchIsRefusedWithAnAlert()
    {
        int port = FreePort();
        string store = Directory.CreateDirectory(Path.Combine(_directory, "store")).FullName;
        TestCertificates.WritePfx(TestCertificates.Create("stored.test"), store, "stored.test", password: "pw");
        await using var server = await StartAsync(port, MapDescribe, o =>
        {
            o.SslCertificates.Add(Pem("a.test", hostnamePort: $"a.test:{port}"));
            o.SslCertificates.Add(Pem("b.test", hostnamePort: $"b.test:{port}"));
            o.SslCertificates.Add(new SslCertificateBinding { CentralStorePort = port, Directory = store, Password = "pw" });
            o.SslCertificates.Add(Pem("loopback", ipPort: $"127.0.0.1:{port}"));
        });
        Assert.Equal("a.test", (await HandshakeAsync(port, "a.test")).Subject);
        Assert.Equal("b.test", (await HandshakeAsync(port, "B.TEST")).Subject);
        Assert.Equal("stored.test", (await HandshakeAsync(port, "stored.test")).Subject);
        Assert.Equal("loopback", (await HandshakeAsync(port, "unknown.test")).Subject);   // the exact address
        Assert.Equal("failed", (await HandshakeAsync(port, "unknown.test", address: IPAddress.IPv6Loopback)).Subject); // nothing for ::1

        // The refusal is an alert the client can read: unrecognized_name.
        using var tcp = new TcpClient(AddressFamily.InterNetworkV6);
        await tcp.ConnectAsync(IPAddress.IPv6Loopback, port);
        var ssl = new SslStream(tcp.GetStream());
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "unknown.test",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }));
        Assert.True(ex is AuthenticationException or IOException, ex.ToString());
        // The port still serves a handshake that has a binding.
        Assert.Equal("a.test", (await HandshakeAsync(port, "a.test", address: IPAddress.IPv6Loopback)).Subject);
    }

    [Fact]
    public async Task ABindingReplacedAtRunTimeServesNewHandshakesWhileOpenConnectionsKeepTheirs()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("first", ipPort: $"0.0.0.0:{port}")));
        var (open, subject) = await HandshakeAsync(port, "localhost");
        await using var _ = open!;
        Assert.Equal("first", subject);

        var bindings = server.Server.Features.Get<IHttpSysLiteCertificateBindingsFeature>()!;
        bindings.Set(Pem("second", ipPort: $"0.0.0.0:{port}"));
        Assert.Contains($"ipport=0.0.0.0:{port}", bindings.Endpoints);
        Assert.Equal("second", (await HandshakeAsync(port, "localhost")).Subject);
        Assert.Equal(200, (await GetAsync(open, "/describe")).StatusCode); // the open connection goes on

        // A certificate that cannot serve is refused, naming its endpoint, and changes nothing.
        var expired = TestCertificates.WritePem(TestCertificates.Create("expired", DateTimeOffset.UtcNow.AddDays(-9), DateTimeOffset.UtcNow.AddDays(-1)), _directory, "expired");
        var refused = Assert.Throws<InvalidOperationException>(() => bindings.Set(new SslCertificateBinding { IpPort = $"0.0.0.0:{port}", Path = expired.Certificate, KeyPath = expired.Key }));
        Assert.Contains($"ipport=0.0.0.0:{port}", refused.Message);
        Assert.Equal("second", (await HandshakeAsync(port, "localhost")).Subject);

        Assert.True(bindings.Remove(new SslCertificateBinding { IpPort = $"0.0.0.0:{port}" }));
        Assert.Equal("failed", (await HandshakeAsync(port, "localhost")).Subject);
    }

    [Fact]
    public async Task ACertificateFileRenewedOnDiskIsReloadedForNewHandshakes()
    {
        int port = FreePort();
        var (path, key) = TestCertificates.WritePem(TestCertificates.Create("before"), _directory, "renewed");
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(new SslCertificateBinding { IpPort = $"[::]:{port}", Path = path, KeyPath = key }));
        Assert.Equal("before", (await HandshakeAsync(port, "localhost", address: IPAddress.IPv6Loopback)).Subject);

        TestCertificates.WritePem(TestCertificates.Create("after"), _directory, "renewed");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15); // the files are looked at once a second
        string subject;
        while ((subject = (await HandshakeAsync(port, "localhost", address: IPAddress.IPv6Loopback)).Subject) != "after")
        {
            Assert.Equal("before", subject);
            Assert.True(DateTime.UtcNow < deadline, "The renewed certificate was not served within 15 s.");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData(ClientCertificateMethod.NoCertificate, "-")]
    [InlineData(ClientCertificateMethod.AllowCertificate, "client.test")]
    public async Task TheClientCertificateReachesTheAppWhenTheMethodAsksForIt(ClientCertificateMethod method, string expected)
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o =>
        {
            o.ClientCertificateMethod = method;
            o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}"));
        });
        using var clientCertificate = TestCertificates.Create("client.test");
        var (ssl, _) = await HandshakeAsync(port, "localhost", clientCertificate);
        await using var _ = ssl!;
        Assert.EndsWith(" " + expected, (await GetAsync(ssl, "/describe")).BodyText);
        // Without one, under either method, the request is served all the same.
        var (bare, _) = await HandshakeAsync(port, "localhost");
        await using var __ = bare!;
        Assert.EndsWith(" -", (await GetAsync(bare, "/describe")).BodyText);
    }

    [Fact]
    public async Task PlainHttpToATlsPortGets400SayingSo()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        await using var raw = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await raw.SendAsync("GET /describe HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await raw.ReadResponseAsync();
        Assert.Equal(400, response.StatusCode);
        Assert.Contains("This port speaks HTTPS", response.BodyText);
        Assert.True(await raw.IsClosedByServerAsync());
    }

    [Fact]
    public async Task HeaderWaitBoundsAStalledHandshake()
    {
        int port = FreePort();
        var clock = new FakeClock();
        await using var server = await StartAsync(port, MapDescribe, o =>
        {
            o.Timeouts.HeaderWait = TimeSpan.FromSeconds(10);
            o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}"));
        }, services: clock.Register);
        await using var raw = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await raw.SendAsync(new byte[] { 0x16, 0x03, 0x01 }); // a ClientHello that stops after its first bytes
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(await raw.IsClosedByServerAsync(TimeSpan.FromMilliseconds(200)));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await raw.IsClosedByServerAsync());
        // A malformed ClientHello ends its connection, and the port still serves.
        await using var garbage = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        // A whole record holding a ClientHello cut short after its version: a decode error.
        await garbage.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03 });
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sent = await garbage.ReadToEndAsync(bound.Token); // the TLS stack's alert, then the close
        Assert.True(sent.Length == 0 || sent[0] == 0x15, $"Expected an alert record or nothing, got {Convert.ToHexString(sent)}.");
        Assert.Equal("server", (await HandshakeAsync(port, "localhost")).Subject);
    }

    [Fact]
    public async Task TheCacheAnswersOverTlsAndNeverAcrossSchemes()
    {
        int https = FreePort();
        int runs = 0;
        await using var server = await StartAsync(https, app => app.MapGet("/cached", (HttpContext c) =>
        {
            c.Response.Headers.CacheControl = "public, max-age=60";
            string body = $"run {Interlocked.Increment(ref runs)} {c.Request.Scheme}";
            c.Response.ContentLength = body.Length; // whole when written: storable (docs/design.md section 5)
            return c.Response.WriteAsync(body);
        }), o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{https}")));
        var (ssl, _) = await HandshakeAsync(https, "localhost");
        await using var _ = ssl!;
        Assert.Equal("run 1 https", (await GetAsync(ssl, "/cached", $"localhost:{https}")).BodyText);
        var hit = await GetAsync(ssl, "/cached", $"localhost:{https}");
        Assert.Equal("run 1 https", hit.BodyText);
        // The app ran once: the second answer was the driver's. (Not the hit header: the shared driver's
        // cache settings are the first server's, and servers of other tests run beside this one.)
        Assert.Equal(1, Volatile.Read(ref runs));

        // The same Host and path over plain HTTP, on a plain port of another server: never the TLS entry.
        await using var plain = await TestServer.StartAsync(Kind, app => app.MapGet("/cached", (HttpContext c) =>
        {
            c.Response.Headers.CacheControl = "public, max-age=60";
            c.Response.ContentLength = "plain http".Length;
            return c.Response.WriteAsync($"plain {c.Request.Scheme}");
        }));
        await using var raw = await plain.ConnectAsync();
        await raw.SendAsync($"GET /cached HTTP/1.1\r\nHost: localhost:{https}\r\n\r\n");
        var crossed = await raw.ReadResponseAsync();
        Assert.Equal("plain http", crossed.BodyText); // its own app's answer, not the stored TLS response
    }

    [Fact]
    public async Task WebSocketsAndLargeBodiesBothWaysWorkOverTls()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, app =>
        {
            app.Map("/ws", async (HttpContext c) =>
            {
                using var socket = await c.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[1024];
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, true, CancellationToken.None);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            });
            app.MapPost("/count", async (HttpContext c) =>
            {
                long total = 0;
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await c.Request.Body.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }
                return total.ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
            app.MapGet("/large", async (HttpContext c) =>
            {
                c.Response.ContentLength = 100L * 1024 * 1024;
                var chunk = new byte[256 * 1024];
                for (int i = 0; i < 400; i++)
                {
                    await c.Response.Body.WriteAsync(chunk);
                }
            });
        }, o =>
        {
            o.MaxRequestBodySize = null;
            o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}"));
        });

        using var ws = new ClientWebSocket();
        ws.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await ws.ConnectAsync(new Uri($"wss://localhost:{port}/ws"), CancellationToken.None);
        await ws.SendAsync("over tls"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var echo = new byte[64];
        var got = await ws.ReceiveAsync(echo, CancellationToken.None);
        Assert.Equal("over tls", Encoding.UTF8.GetString(echo, 0, got.Count));

        using var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
        { Timeout = TimeSpan.FromMinutes(2) };
        var upload = new ByteArrayContent(new byte[100 * 1024 * 1024]);
        Assert.Equal((100L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            await (await client.PostAsync($"https://localhost:{port}/count", upload)).Content.ReadAsStringAsync());
        using var download = await client.GetStreamAsync($"https://localhost:{port}/large");
        long total = 0;
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await download.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        Assert.Equal(100L * 1024 * 1024, total);
    }

    /// <summary>A real ClientHello, as .NET's client sends it for <paramref name="serverName"/>: captured by a listener that answers nothing.</summary>
    private static async Task<byte[]> CaptureClientHelloAsync(string serverName)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        var ssl = new SslStream(client.GetStream());
        var handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var buffer = new byte[16 * 1024];
        int length = 0;
        // One record: its 5-byte header says how long it is (RFC 8446 section 5.1).
        while (length < 5 || length < 5 + (buffer[3] << 8 | buffer[4]))
        {
            length += await accepted.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None);
        }
        client.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        return buffer[..length];
    }

    [Fact]
    public async Task AClientHelloAndAFinThatArriveTogetherEndTheHandshakeAtOnce()
    {
        // The hello and the FIN in one burst can come as one epoll edge: the read that takes the hello
        // is short, and no later edge says the end is behind it. The server answers the hello, then
        // must see the FIN and close, well before HeaderWait (2 minutes). Many rounds, as the two
        // arrive together only some of the time.
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        byte[] hello = await CaptureClientHelloAsync("localhost");
        for (int i = 0; i < 200; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await socket.SendAsync(hello, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var buffer = new byte[4096];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // Reset by the server: an ending too.
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Round {i}: the server answered the hello but never saw the FIN behind it.");
            }
        }
    }

    [Fact]
    public async Task FiveThousandMutatedClientHellosEscapeNoLoopAndAHandshakeStillSucceeds()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        Action<Exception> onError = errors.Enqueue;
        Transport.HttpDriver.Shared.ConnectionError += onError;
        try
        {
            byte[] hello = await CaptureClientHelloAsync("fuzz.test");
            var random = new Random(20261202); // seeded: a failure can be replayed
            var cases = new List<byte[][]>();
            for (int i = 0; i < 5000; i++)
            {
                byte[] mutated = (byte[])hello.Clone();
                switch (i % 5)
                {
                    case 0: // flip bytes anywhere, the record and handshake headers included
                        for (int n = random.Next(1, 8); n > 0; n--)
                        {
                            mutated[random.Next(mutated.Length)] ^= (byte)random.Next(1, 256);
                        }
                        break;
                    case 1: // cut short
                        mutated = mutated[..random.Next(1, mutated.Length)];
                        break;
                    case 2: // lengths that lie: the record's, the handshake's, an extension block's
                        int at = random.Next(3) switch { 0 => 3, 1 => 6, _ => random.Next(5, mutated.Length - 1) };
                        mutated[at] = (byte)random.Next(256);
                        mutated[at + 1] = (byte)random.Next(256);
                        break;
                    case 3: // random bytes after a real record header
                        random.NextBytes(mutated.AsSpan(5));
                        break;
                    default: // garbage appended
                        mutated = [.. mutated, .. Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))];
                        break;
                }
                // Sent whole, or in fragments of random sizes.
                var fragments = new List<byte[]>();
                for (int offset = 0; offset < mutated.Length;)
                {
                    int size = i % 2 == 0 ? mutated.Length : Math.Min(mutated.Length - offset, random.Next(1, 200));
                    fragments.Add(mutated[offset..(offset + size)]);
                    offset += size;
                }
                cases.Add([.. fragments]);
            }

            await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (fragments, _) =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                try
                {
                    foreach (var fragment in fragments)
                    {
                        await socket.SendAsync(fragment, SocketFlags.None);
                    }
                    socket.Shutdown(SocketShutdown.Send); // the ClientHello will not grow: the server must end it
                    using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var buffer = new byte[4096];
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token) > 0)
                    {
                    }
                }
                catch (SocketException)
                {
                    // Reset by the server: an ending too.
                }
            });

            Assert.Empty(errors);
            var (ssl, subject) = await HandshakeAsync(port, "fuzz.test");
            await using var _ = ssl!;
            Assert.Equal("server", subject);
            Assert.Equal(200, (await GetAsync(ssl, "/describe")).StatusCode);
        }
        finally
        {
            Transport.HttpDriver.Shared.ConnectionError -= onError;
        }
    }

    [Fact]
    public async Task ATls12SessionIsResumedByAReturningClient()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        // openssl s_client -reconnect: one full handshake, then five that offer its session.
        var start = new System.Diagnostics.ProcessStartInfo("openssl", $"s_client -connect 127.0.0.1:{port} -tls1_2 -servername localhost -reconnect")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        string text = await output;
        Assert.Contains("New, TLSv1.2", text);
        Assert.Equal(5, text.Split('\n').Count(line => line.StartsWith("Reused, TLSv1.2", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ATls13SessionIsResumedWithTheTicketTheServerSent()
    {
        int port = FreePort();
        await using var server = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        // TLS 1.3 sends its tickets after the handshake (RFC 8446 section 4.6.1): the client keeps the
        // one that arrives with the response, and offers it on its next connection.
        string session = Path.Combine(_directory, "session.pem");
        string first = await OpensslGetAsync(port, $"-sess_out {session}");
        Assert.Contains("New, TLSv1.3", first);
        Assert.Contains("Post-Handshake New Session Ticket arrived", first);
        string second = await OpensslGetAsync(port, $"-sess_in {session}");
        Assert.Contains("Reused, TLSv1.3", second);
        Assert.Contains("HTTP/1.1 200 OK", second);
    }

    /// <summary>One GET /describe with openssl s_client over TLS 1.3; its whole output.</summary>
    private static async Task<string> OpensslGetAsync(int port, string arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("openssl", $"s_client -connect 127.0.0.1:{port} -tls1_3 -servername localhost -ign_eof {arguments}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync("GET /describe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await process.StandardInput.FlushAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return await output;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheClientHelloIsKeptForTheAppWhenTheOptionSaysSo(bool cache)
    {
        int port = FreePort();
        await using var server = await StartAsync(port, app => app.MapGet("/hello", (HttpContext c) =>
        {
            var property = c.Features.Get<IHttpSysRequestPropertyFeature>()!;
            try
            {
                bool small = property.TryGetTlsClientHello(new byte[4], out int needed);
                var bytes = new byte[needed];
                bool fits = property.TryGetTlsClientHello(bytes, out int written);
                // A ClientHello record: content type 22, then a handshake of type 1 (RFC 8446 sections 5.1, 4).
                return $"{small} {fits} {written == needed} {bytes[0]} {bytes[5]} {needed == 5 + (bytes[3] << 8 | bytes[4])}";
            }
            catch (InvalidOperationException ex)
            {
                return ex.Message;
            }
        }), o =>
        {
            o.CacheTlsClientHello = cache;
            o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}"));
        });
        var (ssl, _) = await HandshakeAsync(port, "hello.test");
        await using var _ = ssl!;
        string answer = (await GetAsync(ssl, "/hello")).BodyText;
        if (cache)
        {
            Assert.Equal("False True True 22 1 True", answer);
        }
        else
        {
            Assert.Contains("CacheTlsClientHello", answer);
        }
    }

    [Fact]
    public async Task StartFailsNamingTheCauseForAnUnboundHttpsPortOrAPortOfBothSchemes()
    {
        int port = FreePort();
        var unbound = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(port, MapDescribe, _ => { }));
        Assert.Contains($"no certificate binding for port {port}", unbound.Message);

        var keyless = TestCertificates.WriteCertificateOnly(TestCertificates.Create("keyless"), _directory, "keyless");
        var noKey = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(port, MapDescribe,
            o => o.SslCertificates.Add(new SslCertificateBinding { IpPort = $"0.0.0.0:{port}", Path = keyless })));
        Assert.Contains("SslCertificates[0]", noKey.Message);
        Assert.Contains("private key", noKey.Message);

        if (Kind != ServerKind.HttpSysLite)
        {
            return; // the next check is one driver's: a socket-engine server has a driver of its own, so the port is just taken
        }
        await using var tls = await StartAsync(port, MapDescribe, o => o.SslCertificates.Add(Pem("server", ipPort: $"0.0.0.0:{port}")));
        var mixed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(Kind, MapDescribe, url: $"http://+:{port}/plain/"));
        Assert.Contains("TLS or plain", mixed.Message);
    }
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine under SslStream), which Linux otherwise never runs.</summary>
public sealed class SocketEngineTlsTests : TlsTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}
