using Microsoft.AspNetCore.Server.HttpSys;

// An app configured the HttpSys way: HttpSys's option types, URL prefixes and request features.
var builder = WebApplication.CreateBuilder(args);
int port = builder.Configuration.GetValue("port", 5005);

builder.WebHost.UseHttpSys(options =>
{
    options.Authentication.Schemes = AuthenticationSchemes.None;
    options.Authentication.AllowAnonymous = true;
    options.MaxConnections = null;
    options.MaxRequestBodySize = 30_000_000;
    options.RequestQueueLimit = 2_000L;
    options.Http503Verbosity = Http503VerbosityLevel.Limited;
    options.Timeouts.HeaderWait = TimeSpan.Zero; // zero: the system default, two minutes
    options.Timeouts.IdleConnection = TimeSpan.FromSeconds(90);
    options.UrlPrefixes.Add(UrlPrefix.Create("http", "localhost", port, "/"));
});

var app = builder.Build();

app.MapGet("/", (HttpContext context) =>
{
    // HTTP.sys stamps each step of the request; show how long it spent between arriving and the app.
    var timing = context.Features.Get<IHttpSysRequestTimingFeature>();
    string elapsed = timing is not null
        && timing.TryGetElapsedTime(HttpSysRequestTimingType.DataStart, HttpSysRequestTimingType.RequestDeliveredForIO, out var span)
        ? $"{span.TotalMilliseconds:0.000} ms"
        : "unknown";
    return $"Hello from {context.Request.Host}; the server took {elapsed} from the first byte to the app.";
});

app.MapPost("/echo", async (HttpContext context) =>
{
    using var reader = new StreamReader(context.Request.Body);
    return await reader.ReadToEndAsync();
});

app.Run();
