using HttpSysLite.Driver;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// httpsyslite serve --socket PATH [--config PATH]: the driver as its own process. Apps attach with
// HttpSysLiteOptions.DriverSocket (or HTTPSYSLITE_DRIVER) set to the same path.
if (args.Length == 0 || args[0] != "serve")
{
    Console.Error.WriteLine("""
        usage: httpsyslite serve [--socket PATH] [--config PATH]

          serve     run the HttpSysLite driver as a service: it owns the ports, parses, routes and caches,
                    and app processes attach to it with HttpSysLiteOptions.DriverSocket = PATH
                    (configuration HttpSysLite:DriverSocket, environment HTTPSYSLITE_DRIVER).
          --socket  the Unix socket apps attach to (default /run/httpsyslite/driver.sock)
          --config  a JSON file of driver settings (without it: defaults, state in memory)
        """);
    return 2;
}

var builder = Host.CreateApplicationBuilder(args[1..]);
if (builder.Configuration["config"] is { } config)
{
    builder.Configuration.AddJsonFile(Path.GetFullPath(config), optional: false);
}
builder.Services.AddHostedService<DriverHost>();
await builder.Build().RunAsync();
return 0;
