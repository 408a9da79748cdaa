using System.Net;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.HttpSys;
using Xunit.Abstractions;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The driver as its own process (`httpsyslite serve`), with app processes attached to it: this test
/// process (a TestServer whose DriverSocket names the driver) and the sample run as a process of its
/// own. Traffic goes to the driver's port on loopback; each process answers only its own requests.
/// </summary>
public sealed class DriverTests(ITestOutputHelper output)
{
    private static int FreePort() => TlsClient.FreePort();

    /// <summary>An app in this process, attached to <paramref name="driver"/>, answering "test app" on every path of its prefix.</summary>
    private static Task<TestServer> StartTestAppAsync(DriverProcess driver, string prefix, string? queue = null, RequestQueueMode mode = RequestQueueMode.Create) =>
        TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.MapGet("/{**rest}", (HttpContext c) => $"test app {c.Request.PathBase}|{c.Request.Path}");
            app.MapPost("/upload", async (HttpContext c) =>
            {
                long total = 0;
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await c.Request.Body.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }
                return $"received {total}";
            }).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(200_000_000));
            app.MapGet("/download/{n:long}", async (HttpContext c, long n) =>
            {
                var chunk = new byte[64 * 1024];
                c.Response.ContentLength = n;
                for (long sent = 0; sent < n; sent += chunk.Length)
                {
                    await c.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, n - sent)), c.RequestAborted);
                }
            });
            app.MapGet("/abort", (HttpContext c) => c.Abort());
        }, o =>
        {
            o.DriverSocket = driver.Socket;
            o.RequestQueueName = queue;
            o.RequestQueueMode = mode;
            o.UrlPrefixes.Add(prefix);
        });

    private static Task<SampleProcess> StartSampleAsync(DriverProcess driver, string url, string extra = "") =>
        SampleProcess.StartAsync($"--driver \"{driver.Socket}\" --urls {url} {extra}");

    [Fact]
    public async Task TwoProcessesOnOnePortAndOneKeepAliveConnectionAreRoutedByPath()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        await using var sample = await StartSampleAsync(driver, $"http://+:{port}/two/");
        await using var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        foreach (var (path, expected) in new[]
        {
            ("/a", "test app |/a"),
            ("/two/plaintext", "Hello, World!"),
            ("/b", "test app |/b"),
            ("/two/json", "{\"message\":\"Hello, World!\"}"),
        })
        {
            await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            var response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Equal(expected, response.BodyText);
            Assert.False(response.HasConnectionClose);
        }
        Assert.Contains(driver.Output, line => line.Contains($"pid {sample.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AKilledAppLosesOnlyItsOwnPrefixAndTheOthersGoOnServing()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        var sample = await StartSampleAsync(driver, $"http://+:{port}/two/");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("Hello, World!", await client.GetStringAsync("two/plaintext"));
        DriverProcess.Signal(sample.Id, 9); // SIGKILL: no goodbye
        await sample.DisposeAsync();
        // Its prefix went with its channel: /two/ now routes to the root prefix's app.
        // A request that reached the dying app's queue meanwhile is answered 503, never left hanging.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync("two/plaintext");
            string answer = await response.Content.ReadAsStringAsync();
            if (answer == "test app |/two/plaintext")
            {
                break;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"the killed app's prefix answered {(int)response.StatusCode}: {answer}");
            Assert.True(DateTime.UtcNow < deadline, "the killed app's prefix was never released");
            await Task.Delay(50);
        }
        Assert.Equal("test app |/c", await client.GetStringAsync("c"));
    }

    [Fact]
    public async Task ACacheHitIsAnsweredByTheDriverWithoutWakingTheApp()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var sample = await StartSampleAsync(driver, $"http://+:{port}/");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        // The sample counts its own runs of /cached: the second answer is the first run's.
        Assert.Equal("cached response, app run #1\n", await client.GetStringAsync("cached"));
        Assert.Equal("cached response, app run #1\n", await client.GetStringAsync("cached"));
        Assert.Equal("cached response, app run #1\n", await client.GetStringAsync("cached"));
        // netsh http show cachestate / delete cache, against the running driver.
        var (_, state) = await driver.RunVerbAsync("show cachestate");
        output.WriteLine(state);
        Assert.Contains($"URL: http://127.0.0.1:{port}/cached", state);
        Assert.Contains("Status: 200", state);
        var (code, flushed) = await driver.RunVerbAsync($"delete cache url=http://127.0.0.1:{port}/ recursive=yes");
        Assert.True(code == 0, flushed);
        Assert.Contains("1 cache entries removed", flushed);
        Assert.Equal("cached response, app run #2\n", await client.GetStringAsync("cached"));
    }

    [Fact]
    public async Task BodiesStreamBothWaysAcrossTheProcessBoundary()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var sample = await StartSampleAsync(driver, $"http://+:{port}/");
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/in/");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        var body = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(body);
        using var echoed = await client.PostAsync("echo", new ByteArrayContent(body));
        Assert.Equal(body, await echoed.Content.ReadAsByteArrayAsync());
        Assert.Equal(5_000_000, (await client.GetByteArrayAsync("bytes/5000000")).Length);
        using var uploaded = await client.PostAsync("in/upload", new ByteArrayContent(new byte[10_000_000]));
        Assert.Equal("received 10000000", await uploaded.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TwoProcessesOnANamedQueueTakeItsRequestsInTurn()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var sample = await StartSampleAsync(driver, $"http://+:{port}/",
            "--HttpSysLite:RequestQueueName=shared --HttpSysLite:RequestQueueMode=Create");
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/", queue: "shared", mode: RequestQueueMode.Attach);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var answers = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            answers.Add(await client.GetStringAsync("plaintext"));
        }
        Assert.Contains("Hello, World!", answers);
        Assert.Contains("test app |/plaintext", answers);
    }

    [Fact]
    public async Task WithNoDriverListeningStartFailsNamingTheSocketAndTheCommand()
    {
        string socket = Path.Combine(Path.GetTempPath(), $"httpsyslite-none-{Guid.NewGuid():n}.sock");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(ServerKind.HttpSysLite, _ => { }, o =>
        {
            o.DriverSocket = socket;
            o.UrlPrefixes.Add($"http://+:{FreePort()}/");
        }));
        Assert.Contains(socket, ex.Message);
        Assert.Contains("httpsyslite serve", ex.Message);
    }

    [Fact]
    public async Task ADriverThatStopsTellsItsAppsAndAnswersTheirWaitingClients()
    {
        var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("test app |/x", await client.GetStringAsync("x"));
        await driver.DisposeAsync(); // SIGTERM: a graceful stop
        Assert.Contains(driver.Output, line => line.Contains("Stopping: 1 app process(es) attached.", StringComparison.Ordinal));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync("x"));
    }

    [Fact]
    public async Task AnAppReattachesWhenItsDriverRestarts()
    {
        string directory = Directory.CreateTempSubdirectory("httpsyslite-restart-").FullName;
        try
        {
            string socket = Path.Combine(directory, "driver.sock");
            var first = await DriverProcess.StartAsync(socket);
            int port = FreePort();
            await using var test = await StartTestAppAsync(first, $"http://+:{port}/");
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.Equal("test app |/before", await client.GetStringAsync("before"));
            await first.DisposeAsync(); // SIGTERM
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync("between"));
            // A new driver on the same socket: the app opens its queue there again, prefix and all.
            await using var second = await DriverProcess.StartAsync(socket);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    Assert.Equal("test app |/after", await client.GetStringAsync("after"));
                    break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                }
            }
            Assert.Contains(second.Output, line => line.Contains("created request queue", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AnAppReplacedOnItsNamedQueueUnderLoadLosesNoRequest()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        const string queue = "--HttpSysLite:RequestQueueName=replaced --HttpSysLite:RequestQueueMode=CreateOrAttach";
        var old = await StartSampleAsync(driver, $"http://+:{port}/", queue);
        SampleProcess? replacement = null;
        try
        {
            // Bounded load: 8 keep-alive clients for about 8 s, every answer checked whole.
            int ok = 0, failed = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var stopAt = DateTime.UtcNow.AddSeconds(8);
            var clients = Enumerable.Range(0, 8).Select(async _ =>
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
                while (DateTime.UtcNow < stopAt)
                {
                    try
                    {
                        using var response = await client.GetAsync("plaintext");
                        string body = await response.Content.ReadAsStringAsync();
                        if (response.IsSuccessStatusCode && body == "Hello, World!")
                        {
                            Interlocked.Increment(ref ok);
                        }
                        else
                        {
                            Interlocked.Increment(ref failed);
                            failures.Enqueue($"{(int)response.StatusCode} {body}");
                        }
                    }
                    catch (HttpRequestException ex)
                    {
                        Interlocked.Increment(ref failed);
                        failures.Enqueue(ex.Message);
                    }
                }
            }).ToArray();
            await Task.Delay(1500);
            // The new version attaches to the queue, then the old one stops gracefully (SIGTERM).
            replacement = await SampleProcess.StartAsync($"--driver \"{driver.Socket}\" --urls http://+:{port}/ {queue}", readyLine: "Attached to the HttpSysLite driver");
            await Task.Delay(1000);
            await old.StopGracefullyAsync(TimeSpan.FromSeconds(60));
            await Task.WhenAll(clients);
            output.WriteLine($"replaced under load: {ok} requests served, {failed} failed");
            Assert.True(failed == 0, $"{failed} of {ok + failed} requests failed: {string.Join("; ", failures.Take(5))}");
            Assert.True(ok > 100, $"only {ok} requests were served");
            // The queue and its prefix stayed in the driver: the replacement serves alone now.
            using var after = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.Equal("Hello, World!", await after.GetStringAsync("plaintext"));
        }
        finally
        {
            await old.DisposeAsync();
            if (replacement is not null)
            {
                await replacement.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AClientThatResetsAbortsTheRequestInTheAppProcess()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        var aborted = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var test = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/wait", async (HttpContext c) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, c.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult(true);
            }
        }), o =>
        {
            o.DriverSocket = driver.Socket;
            o.UrlPrefixes.Add($"http://+:{port}/");
        });
        var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        connection.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // the client goes away: a reset
        await connection.DisposeAsync();
        Assert.True(await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AnAppKilledUnderLoadCostsTheOtherAppNothingAndItsOwnRequestsGet503OrTheirRoute()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        var sample = await StartSampleAsync(driver, $"http://+:{port}/two/");
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        void Count(string outcome) => outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        // Bounded load (8 clients each way, about 5 s), and the sample is killed 2 s in.
        async Task LoadAsync(string path, string name)
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync(path);
                    string body = await response.Content.ReadAsStringAsync();
                    Count($"{name}: {(int)response.StatusCode} {(body.StartsWith("test app", StringComparison.Ordinal) ? "test app" : body)}");
                }
                catch (HttpRequestException ex)
                {
                    Count($"{name}: failed ({ex.HttpRequestError})");
                }
            }
        }
        var load = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? LoadAsync("other", "other") : LoadAsync("two/plaintext", "killed")).ToArray();
        await Task.Delay(2000);
        DriverProcess.Signal(sample.Id, 9); // SIGKILL
        await Task.WhenAll(load);
        await sample.DisposeAsync();
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key))
        {
            output.WriteLine($"{count,7}  {outcome}");
        }
        // The other app lost nothing.
        Assert.Equal(["other: 200 test app"], outcomes.Keys.Where(k => k.StartsWith("other", StringComparison.Ordinal)));
        // The killed app's clients got its answers, then 503 for what it held when it died, then the root
        // prefix's app once its prefix was released: never a broken connection or a hang.
        var killed = outcomes.Keys.Where(k => k.StartsWith("killed", StringComparison.Ordinal)).ToHashSet();
        Assert.Contains("killed: 200 Hello, World!", killed);
        Assert.Contains("killed: 200 test app", killed);
        killed.ExceptWith(["killed: 200 Hello, World!", "killed: 200 test app", "killed: 503 "]);
        Assert.Empty(killed);
    }

    [Fact]
    public async Task TheAppsTimeoutsApplyInTheDriver()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        var bodyStatus = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var test = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapPost("/upload", async (HttpContext c) =>
        {
            try
            {
                await c.Request.Body.CopyToAsync(Stream.Null);
                bodyStatus.TrySetResult(0);
            }
            catch (BadHttpRequestException ex)
            {
                bodyStatus.TrySetResult(ex.StatusCode);
                throw;
            }
        }), o =>
        {
            o.DriverSocket = driver.Socket;
            o.UrlPrefixes.Add($"http://+:{port}/");
            o.Timeouts.HeaderWait = TimeSpan.FromSeconds(1);
            o.Timeouts.EntityBody = TimeSpan.FromSeconds(1);
            o.MinRequestBodyBytesPerSecond = 0;
        });
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        // HeaderWait, set by the app, cuts off a head that does not complete (on the driver's clock).
        await using (var slowHead = await RawConnection.ConnectAsync(endPoint))
        {
            var started = DateTime.UtcNow;
            await slowHead.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n");
            var response = await slowHead.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
            Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
            Assert.True(DateTime.UtcNow - started > TimeSpan.FromMilliseconds(500), "408 before HeaderWait");
        }
        // EntityBody: a stalled body fails the app's read in its own process with the 408 the driver sends.
        await using (var slowBody = await RawConnection.ConnectAsync(endPoint))
        {
            await slowBody.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
            Assert.Equal(408, await bodyStatus.Task.WaitAsync(TimeSpan.FromSeconds(30)));
            var response = await slowBody.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
            Assert.Equal("HTTP/1.1 408 Request Timeout", response.StatusLine);
            Assert.True(await slowBody.IsClosedByServerAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task AnHttpsPrefixIsServedWithTheDriversBindingAndTheAppSeesTheHandshake()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await driver.BindTestCertificateAsync(port);
        await using var test = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/tls", (HttpContext c) =>
        {
            var handshake = c.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>();
            return $"{c.Request.Scheme} {c.Request.IsHttps} {handshake?.Protocol} {handshake?.HostName}";
        }), o =>
        {
            o.DriverSocket = driver.Socket;
            o.UrlPrefixes.Add($"https://+:{port}/");
        });
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, served, _, _) => served?.Subject == "CN=localhost" };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{port}/") };
        string answer = await client.GetStringAsync("tls");
        Assert.Matches(@"^https True Tls1[23] localhost$", answer);
    }

    [Theory]
    [InlineData(System.Security.Authentication.SslProtocols.Tls12)]
    [InlineData(System.Security.Authentication.SslProtocols.Tls13)]
    public async Task AClientCertificateAskedForAfterTheHandshakeReachesTheAppProcess(System.Security.Authentication.SslProtocols protocol)
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await driver.BindTestCertificateAsync(port);
        static string Name(System.Security.Cryptography.X509Certificates.X509Certificate2? c) =>
            c?.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false) ?? "-";
        await using var test = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
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
        }, o =>
        {
            o.DriverSocket = driver.Socket;
            o.ClientCertificateMethod = ClientCertificateMethod.AllowRenegotation;
            o.UrlPrefixes.Add($"https://+:{port}/");
        });
        using var client = HttpSysLite.Tests.Unit.Support.TestCertificates.Create("client.test");
        var (connection, _) = await TlsClient.HandshakeAsync(port, "localhost", client, protocols: protocol);
        await using var _ = connection!;
        Assert.Equal("-", (await TlsClient.GetAsync(connection, "/has")).BodyText);
        // The app process asks; the driver renegotiates (or asks post-handshake) and sends the answer over.
        Assert.Equal("client.test", (await TlsClient.GetAsync(connection, "/ask")).BodyText);
        Assert.Equal("client.test", (await TlsClient.GetAsync(connection, "/has")).BodyText);
        // The driver's refusal reaches the app as in-process: the body first. (A client of its own: one
        // that resumed the first session would bring the certificate that session settled.)
        var (second, _) = await TlsClient.HandshakeAsync(port, "localhost", null, protocols: protocol);
        await using var __ = second!;
        await second!.SendAsync("POST /ask-before-reading HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc");
        Assert.StartsWith("refused: Read the request body to its end", (await second.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task TheIpListenListLimitsWhatTheDriverBinds()
    {
        await using var driver = await DriverProcess.StartAsync();
        Assert.Contains("not an IP address", (await driver.RunVerbAsync("add iplisten ipaddress=nope")).Output);
        var (code, added) = await driver.RunVerbAsync("add iplisten ipaddress=127.0.0.1");
        Assert.True(code == 0, added);
        Assert.Contains("127.0.0.1", (await driver.RunVerbAsync("show iplisten")).Output);
        int port = FreePort();
        // A wildcard prefix binds the listed address only, not the dual-mode [::].
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("test app |/x", await client.GetStringAsync("x"));
        using var v6 = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => v6.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port)));
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, refused.SocketErrorCode);
        // An address the list leaves out is refused, naming the command that would add it.
        var outside = await Assert.ThrowsAsync<InvalidOperationException>(() => StartTestAppAsync(driver, $"http://[::1]:{FreePort()}/"));
        Assert.Contains("IP listen list", outside.Message);
        Assert.Contains("httpsyslite add iplisten ipaddress=::1", outside.Message);
    }

    [Fact]
    public async Task AWebSocketEchoesThroughTheDriver()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var sample = await StartSampleAsync(driver, $"http://+:{port}/");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), timeout.Token);
        // Larger than a credit window each way, so the upgraded bytes cross under backpressure too.
        foreach (int size in new[] { 5, 40_000, 300_000 })
        {
            var message = new byte[size];
            Random.Shared.NextBytes(message);
            await socket.SendAsync(message, System.Net.WebSockets.WebSocketMessageType.Binary, true, timeout.Token);
            var buffer = new byte[size];
            int total = 0;
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(total), timeout.Token);
                total += received.Count;
                if (received.EndOfMessage)
                {
                    break;
                }
            }
            Assert.Equal(message, buffer.AsSpan(0, total).ToArray());
        }
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Closed, socket.State);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task AnAbortInTheAppProcessResetsTheClientsConnection()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        await using var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await connection.SendAsync("GET /abort HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        // HttpCancelHttpRequest: the connection ends with no response, as in-process.
        Assert.True(await connection.IsClosedByServerAsync());
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("test app |/after", await client.GetStringAsync("after"));
    }

    [Fact]
    public async Task AHundredMegabytesCrossEachWayAndASlowReaderKeepsTheDriverBounded()
    {
        await using var driver = await DriverProcess.StartAsync();
        int port = FreePort();
        await using var test = await StartTestAppAsync(driver, $"http://+:{port}/");
        const long size = 100_000_000;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(120) };
        using (var uploaded = await client.PostAsync("upload", new StreamContent(new ZeroStream(size))))
        {
            Assert.Equal($"received {size}", await uploaded.Content.ReadAsStringAsync());
        }
        long before = ResidentBytes(driver.Id);
        // Down, with a client that takes 1 MB and then stops reading for a while: what the app keeps
        // writing must wait in neither process beyond a window or two (and the socket buffers).
        await using var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        connection.Socket.ReceiveBufferSize = 64 * 1024;
        await connection.SendAsync($"GET /download/{size} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        var buffer = new byte[256 * 1024];
        var head = new List<byte>();
        long body = 0;
        while (body < 1_000_000)
        {
            int n = await connection.Socket.ReceiveAsync(buffer);
            Assert.True(n > 0, "the connection closed before 1 MB of the body");
            body += TakeBody(head, buffer.AsSpan(0, n));
        }
        long peak = 0;
        for (int i = 0; i < 20; i++)
        {
            await Task.Delay(100);
            peak = Math.Max(peak, ResidentBytes(driver.Id));
        }
        output.WriteLine($"driver RSS before {before / 1024} KiB, peak while the client stalled {peak / 1024} KiB");
        Assert.True(peak - before < 32 * 1024 * 1024, $"the driver grew {(peak - before) / 1024} KiB while the client stalled");
        while (body < size)
        {
            int n = await connection.Socket.ReceiveAsync(buffer);
            Assert.True(n > 0, $"the connection closed after {body} of {size} body bytes");
            body += n;
        }
        Assert.Equal(size, body);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", System.Text.Encoding.Latin1.GetString(head.ToArray()));
    }

    /// <summary>Collects the response head into <paramref name="head"/> until its blank line; returns how many body bytes <paramref name="data"/> held.</summary>
    private static int TakeBody(List<byte> head, ReadOnlySpan<byte> data)
    {
        if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
        {
            return data.Length;
        }
        for (int i = 0; i < data.Length; i++)
        {
            head.Add(data[i]);
            if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
            {
                return data.Length - i - 1;
            }
        }
        return 0;
    }

    private static long ResidentBytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    /// <summary>A stream of zero bytes of a given length, so a 100 MB upload needs no 100 MB array.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private readonly long _length = length;
        private long _left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, _left);
            Array.Clear(buffer, offset, n);
            _left -= n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
