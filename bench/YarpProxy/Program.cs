// A YARP reverse proxy on Kestrel: every request to --urls is forwarded to --destination, as a
// Kestrel deployment shares a port between apps. Logging is off, as the servers it is compared with
// run with it at Warning.
using Yarp.ReverseProxy.Configuration;

var builder = WebApplication.CreateBuilder(args);
string destination = builder.Configuration["destination"] ?? throw new InvalidOperationException("--destination http://host:port/ is required");
builder.Logging.ClearProviders();
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "app", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "app", Destinations = new Dictionary<string, DestinationConfig> { ["app"] = new() { Address = destination } } }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
