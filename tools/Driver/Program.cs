using HttpSysLite.Driver;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// httpsyslite: the driver as its own process (serve), and netsh http's verbs for the running driver.
if (args.Length > 0 && args[0] == "serve")
{
    var builder = Host.CreateApplicationBuilder(args[1..]);
    builder.Services.AddHostedService<DriverHost>();
    await builder.Build().RunAsync();
    return 0;
}
if (args.Length >= 2 && (args[0], args[1]) is ("urlacl", "add") or ("urlacl", "delete") or ("show", "urlacl") or ("show", "servicestate")
    or ("sslcert", "add") or ("sslcert", "delete") or ("show", "sslcert") or ("show", "cachestate") or ("delete", "cache")
    or ("show", "iplisten") or ("add", "iplisten") or ("delete", "iplisten"))
{
    return await AdminCommand.RunAsync($"{args[0]} {args[1]}", args[2..]);
}
Console.Error.WriteLine("""
    usage:
      httpsyslite serve [--socket PATH] [--config PATH]
      httpsyslite urlacl add url=URL (user=NAME | group=NAME)
      httpsyslite urlacl delete url=URL
      httpsyslite show urlacl [url=URL] [--format json]
      httpsyslite sslcert add (ipport=IP:PORT | hostnameport=HOST:PORT) certfile=PATH [keyfile=PATH] [password=P]
      httpsyslite sslcert add ccs=PORT dir=PATH
      httpsyslite sslcert delete (ipport=IP:PORT | hostnameport=HOST:PORT | ccs=PORT)
      httpsyslite show sslcert [--format json]
      httpsyslite show servicestate [--format json]
      httpsyslite show cachestate [url=URL] [--format json]
      httpsyslite delete cache url=URL [recursive=yes]
      httpsyslite show iplisten
      httpsyslite (add | delete) iplisten ipaddress=IP

      serve     run the HttpSysLite driver as a service: it owns the ports, parses, routes and caches,
                and app processes attach to it with HttpSysLiteOptions.DriverSocket = PATH
                (configuration HttpSysLite:DriverSocket, environment HTTPSYSLITE_DRIVER).
      urlacl    who may register a URL prefix (HTTP.sys's URL reservations): root may register anything,
                other users what a reservation for them or one of their groups covers.
      sslcert   the certificates the driver serves https with (HTTP.sys's bindings): apps attached to it
                serve https prefixes with no certificate of their own, and never read the keys.
      show      the running driver's reservations, bindings, or its queues, processes, requests and connections.

      --socket  the driver's Unix socket (default: $HTTPSYSLITE_DRIVER, else /run/httpsyslite/driver.sock)
      --config  serve: the JSON file the driver keeps its reservations and bindings in (without it: in memory only)
      --format  show: json for data instead of a table
    """);
return 2;
