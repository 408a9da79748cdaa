using System.Net;
using BenchmarkDotNet.Attributes;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Bench.Micro;

/// <summary>Prefix lookup in a table of ten registrations across the four precedence buckets.</summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private PrefixTable _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        var group = new UrlGroup(new HttpDriver(), new RequestQueue(null, null!));
        string[] prefixes =
        [
            "http://+:80/api/", "http://+:80/api/v2/", "http://+:80/admin/", "http://example.com:80/",
            "http://example.com:80/shop/", "http://127.0.0.1:80/", "http://127.0.0.1:80/local/", "http://*:80/",
            "http://*:80/static/", "http://+:81/",
        ];
        _table = PrefixTable.Create(prefixes.Select(p => new PrefixRegistration(UrlPrefix.Create(p), group)));
    }

    [Benchmark]
    public object? WeakWildcardMatch() => _table.Find(80, "other.org", IPAddress.Loopback, "/static/app.js");

    [Benchmark]
    public object? StrongWildcardMatch() => _table.Find(80, "example.com", IPAddress.Loopback, "/api/v2/orders");
}
