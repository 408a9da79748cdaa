using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.OutputCaching;

namespace MinimalApi;

/// <summary>
/// Builds the sample on either server. Public so the functional tests and benchmarks host exactly
/// these endpoints, on HttpSysLite and on Kestrel, and compare.
/// </summary>
public static class SampleApp
{
    /// <summary>The prefix served when no --urls is given.</summary>
    public const string DefaultUrl = "http://+:5000/";

    // GET endpoints also answer HEAD, with the same headers and no body (RFC 9110 section 9.3.2).
    private static readonly string[] s_getOrHead = ["GET", "HEAD"];

    private static readonly byte[] s_helloWorld = "Hello, World!"u8.ToArray();
    private static readonly byte[] s_filler = CreateFiller();
    private static long s_cachedRuns;

    /// <summary>The largest body /bytes sends and /echo accepts: 64 MiB.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>True when the configuration asks for Kestrel (<c>--server kestrel</c>).</summary>
    public static bool UsesKestrel(IConfiguration configuration) =>
        string.Equals(configuration["server"], "kestrel", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for <c>--two-apps</c>: a second app shares the port under /admin/.</summary>
    public static bool WantsTwoApps(IConfiguration configuration) =>
        string.Equals(configuration["two-apps"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The second app of <c>--two-apps</c>: its own WebApplication, host and request queue, registered on
    /// the first app's port under /admin/. One socket serves both; each sees only its own requests.
    /// </summary>
    public static WebApplication BuildAdminApp(WebApplication main)
    {
        if (UsesKestrel(main.Configuration))
        {
            throw new InvalidOperationException("--two-apps needs HttpSysLite: Kestrel cannot share a port between apps.");
        }
        var address = main.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(address.Replace("+", "localhost").Replace("*", "localhost")).Port;

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseHttpSysLite(options =>
        {
            options.UrlPrefixes.Add($"http://+:{port}/admin/");
            options.RequestQueueName = "admin";
        });
        var admin = builder.Build();
        admin.MapGet("/", static (HttpContext context) =>
            $"admin app: PathBase={context.Request.PathBase}, Path={context.Request.Path}\n");
        admin.MapGet("/{**rest}", static (HttpContext context) =>
            $"admin app: PathBase={context.Request.PathBase}, Path={context.Request.Path}\n");
        return admin;
    }

    /// <summary>Creates the app from command-line style arguments.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        FirstChanceExceptionReport.StartIfAsked(); // bench/soak.sh's counter; off unless its variable is set
        var builder = WebApplication.CreateBuilder(args);
        bool kestrel = UsesKestrel(builder.Configuration);
        // The sample's own default only when the user gave no address (--urls, ASPNETCORE_URLS,
        // ASPNETCORE_HTTP_PORTS): hosting applies those itself.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        if (kestrel)
        {
            builder.WebHost.UseKestrel();
            // Kestrel's best answer to a response cache: the OutputCache middleware.
            builder.Services.AddOutputCache();
        }
        else
        {
            // --extra-prefixes N registers N more prefixes (/p0/ … on the first URL's port), to measure
            // what routing costs with many registrations (bench/bench.py). Needs an explicit port.
            int extra = builder.Configuration.GetValue("extra-prefixes", 0);
            // --driver PATH attaches to a driver running as its own process (`httpsyslite serve --socket PATH`).
            string? driver = builder.Configuration["driver"];
            builder.WebHost.UseHttpSysLite(options =>
            {
                if (!string.IsNullOrEmpty(driver))
                {
                    options.DriverSocket = driver;
                }
                if (extra > 0)
                {
                    string url = (builder.Configuration["urls"] ?? DefaultUrl).Split(';')[0];
                    int port = new Uri(url.Replace("+", "localhost").Replace("*", "localhost")).Port;
                    options.UrlPrefixes.Add(url);
                    for (int i = 0; i < extra; i++)
                    {
                        options.UrlPrefixes.Add($"http://+:{port}/p{i}/");
                    }
                }
            });
        }
        configure?.Invoke(builder);

        var app = builder.Build();
        if (kestrel)
        {
            app.UseOutputCache();
        }
        app.UseWebSockets();
        MapEndpoints(app, kestrel);
        return app;
    }

    /// <summary>The endpoints of docs/design.md section 7.</summary>
    public static void MapEndpoints(WebApplication app, bool kestrel)
    {
        app.MapGet("/", static context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(IndexPage);
        });

        app.MapMethods("/plaintext", s_getOrHead, static context =>
        {
            var response = context.Response;
            response.ContentType = "text/plain";
            response.ContentLength = s_helloWorld.Length;
            return response.Body.WriteAsync(s_helloWorld).AsTask();
        });

        app.MapMethods("/json", s_getOrHead, static context =>
        {
            var response = context.Response;
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new JsonMessage("Hello, World!"), SampleJsonContext.Default.JsonMessage);
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            return response.Body.WriteAsync(body).AsTask();
        });

        var cached = app.MapGet("/cached", static context =>
        {
            long run = Interlocked.Increment(ref s_cachedRuns);
            byte[] body = Encoding.UTF8.GetBytes($"cached response, app run #{run}\n");
            var response = context.Response;
            response.ContentType = "text/plain";
            response.Headers.CacheControl = "public, max-age=60";
            response.ContentLength = body.Length;
            return response.Body.WriteAsync(body).AsTask();
        });
        if (kestrel)
        {
            cached.CacheOutput(static policy => policy.Expire(TimeSpan.FromSeconds(60)));
        }

        app.MapPost("/echo", static async context =>
        {
            // Echo streams, so it can take more than the 30 MB default: up to the 64 MiB /bytes serves.
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = MaxBytes;
            var request = context.Request;
            var response = context.Response;
            if (request.ContentType is not null)
            {
                response.ContentType = request.ContentType;
            }
            if (request.ContentLength is long length)
            {
                response.ContentLength = length;
            }
            await request.Body.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
        });

        app.MapGet("/headers", static context =>
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var header in context.Request.Headers)
            {
                headers[header.Key] = header.Value.ToString();
            }
            return context.Response.WriteAsJsonAsync(headers, SampleJsonContext.Default.DictionaryStringString);
        });

        // ?chunk=N writes the body N bytes per awaited write (1 to 16 KiB; default 16 KiB): a
        // one-write-at-a-time app, for the send-buffering latency benchmark.
        app.MapMethods("/bytes/{n:long}", s_getOrHead, static async (HttpContext context, long n, int? chunk) =>
        {
            int size = chunk ?? s_filler.Length;
            if (n < 0 || n > MaxBytes || size < 1 || size > s_filler.Length)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            var response = context.Response;
            response.ContentType = "application/octet-stream";
            response.ContentLength = n;
            for (long sent = 0; sent < n; sent += size)
            {
                int length = (int)Math.Min(size, n - sent);
                await response.Body.WriteAsync(s_filler.AsMemory(0, length), context.RequestAborted);
            }
        });

        app.Map("/ws", static async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await EchoAsync(socket, context.RequestAborted);
        });
    }

    /// <summary>The most /ws reads of a message at once, and the buffer it rents to do so.</summary>
    private const int EchoBufferBytes = 16 * 1024;

    /// <summary>
    /// Echoes every message, piece by piece, with its type and end-of-message flag. A silent socket
    /// holds no buffer: it waits in a zero-byte receive, which WebSocket supports (it returns once a
    /// frame is there without consuming its payload), and only then rents one from the shared pool, so
    /// thousands of idle WebSockets cost no 16 KiB each.
    /// </summary>
    private static async Task EchoAsync(WebSocket socket, CancellationToken aborted)
    {
        while (true)
        {
            var waited = await socket.ReceiveAsync(Memory<byte>.Empty, aborted);
            if (waited.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", aborted);
                return;
            }
            if (waited.EndOfMessage)
            {
                // An empty message (or the empty last piece of one) was all there was.
                await socket.SendAsync(ReadOnlyMemory<byte>.Empty, waited.MessageType, true, aborted);
                continue;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(EchoBufferBytes);
            try
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(0, EchoBufferBytes), aborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", aborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, aborted);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static byte[] CreateFiller()
    {
        // 16 KiB of a repeating, recognisable pattern, so a test can check every byte.
        var filler = new byte[16 * 1024];
        for (int i = 0; i < filler.Length; i++)
        {
            filler[i] = (byte)('a' + (i % 26));
        }
        return filler;
    }

    private const string IndexPage = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>HttpSysLite sample</title>
        <style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.6rem;white-space:pre-wrap}button{margin:.2rem}</style>
        </head>
        <body>
        <h1>HttpSysLite sample</h1>
        <p>Every button calls an endpoint of this app and shows the answer below it.</p>
        <p>
          <button onclick="show('/plaintext')">GET /plaintext</button>
          <button onclick="show('/json')">GET /json</button>
          <button onclick="show('/cached')">GET /cached</button>
          <button onclick="show('/headers')">GET /headers</button>
          <button onclick="show('/bytes/64')">GET /bytes/64</button>
          <button onclick="echo()">POST /echo</button>
          <button onclick="ws()">WebSocket /ws</button>
        </p>
        <pre id="out">(click a button)</pre>
        <script>
        const out = document.getElementById('out');
        async function show(url) {
          const r = await fetch(url, { cache: 'no-store' });
          out.textContent = r.status + ' ' + (r.headers.get('content-type') || '') + '\n\n' + await r.text();
        }
        async function echo() {
          const r = await fetch('/echo', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'echo at ' + new Date().toISOString() });
          out.textContent = r.status + '\n\n' + await r.text();
        }
        function ws() {
          const s = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
          s.onopen = () => s.send('hello over WebSocket');
          s.onmessage = e => { out.textContent = 'WebSocket echoed: ' + e.data; s.close(); };
          s.onerror = () => { out.textContent = 'WebSocket error'; };
        }
        </script>
        </body>
        </html>
        """;
}
