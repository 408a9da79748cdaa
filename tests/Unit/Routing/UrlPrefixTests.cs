using System.Net;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Tests.Unit.Routing;

public class UrlPrefixTests
{
    [Theory]
    [InlineData("http://+:80/app/", "+", UrlPrefixHostKind.StrongWildcard, 80, "/app/")]
    [InlineData("http://*:8080/", "*", UrlPrefixHostKind.WeakWildcard, 8080, "/")]
    [InlineData("HTTP://Example.COM:80/Path", "example.com", UrlPrefixHostKind.HostName, 80, "/Path/")]
    [InlineData("http://localhost:5000", "localhost", UrlPrefixHostKind.HostName, 5000, "/")]
    [InlineData("http://127.0.0.1:80/x/", "127.0.0.1", UrlPrefixHostKind.IPAddress, 80, "/x/")]
    [InlineData("http://[::1]:80/", "::1", UrlPrefixHostKind.IPAddress, 80, "/")]
    [InlineData("http://+:0/", "+", UrlPrefixHostKind.StrongWildcard, 0, "/")]
    public void Parses(string text, string host, UrlPrefixHostKind kind, int port, string path)
    {
        var prefix = UrlPrefix.Create(text);
        Assert.Equal("http", prefix.Scheme);
        Assert.Equal(host, prefix.Host);
        Assert.Equal(kind, prefix.HostKind);
        Assert.Equal(port, prefix.Port);
        Assert.Equal(path, prefix.Path);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("localhost:5000", "scheme://host:port/path/")]
    [InlineData("ftp://+:21/", "not http")]
    [InlineData("ftp://+:443/", "is not http or https")]
    [InlineData("http://+/", "port is missing")]
    [InlineData("http://+:65536/", "65535")]
    [InlineData("http://+:-1/", "65535")]
    [InlineData("http://+:abc/", "65535")]
    [InlineData("http://:80/", "host is missing")]
    [InlineData("http://[::1/", "IPv6")]
    [InlineData("http://+:80/a?b/", "may not hold")]
    [InlineData("http://bad host:80/", "not +, *, a host name")]
    public void RejectsWithAReason(string text, string reasonFragment)
    {
        Assert.False(UrlPrefix.TryCreate(text, out _, out string? error));
        Assert.Contains(reasonFragment, error, StringComparison.OrdinalIgnoreCase);
        var ex = Assert.Throws<FormatException>(() => UrlPrefix.Create(text));
        Assert.Contains(reasonFragment, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/app/", "/app/x", true)]
    [InlineData("/app/", "/app/", true)]
    [InlineData("/app/", "/app", true)]
    [InlineData("/app/", "/APP/x", true)]
    [InlineData("/app/", "/apple", false)]
    [InlineData("/app/", "/ap", false)]
    [InlineData("/", "/anything", true)]
    public void MatchesWholeSegments(string prefixPath, string path, bool matches)
    {
        Assert.Equal(matches, PrefixTable.PathMatches(prefixPath, path));
    }

    [Fact]
    public void TablePrefersStrongThenHostThenIpThenWeakThenLongestPath()
    {
        var group = new UrlGroup(new Transport.HttpDriver(), new RequestQueue(null, null!));
        PrefixRegistration Reg(string p) => new(UrlPrefix.Create(p), group);
        var weak = Reg("http://*:80/");
        var ip = Reg("http://127.0.0.1:80/");
        var host = Reg("http://example.com:80/");
        var strongApi = Reg("http://+:80/api/");
        var strongApiV2 = Reg("http://+:80/api/v2/");
        var table = PrefixTable.Create([weak, ip, host, strongApi, strongApiV2]);
        var loopback = IPAddress.Loopback;

        Assert.Same(strongApiV2, table.Find(80, "example.com", loopback, "/api/v2/x"));
        Assert.Same(strongApi, table.Find(80, "example.com", loopback, "/api/v1"));
        Assert.Same(host, table.Find(80, "EXAMPLE.com", loopback, "/home"));
        Assert.Same(ip, table.Find(80, "other.org", loopback, "/home"));
        Assert.Same(weak, table.Find(80, "other.org", IPAddress.Parse("10.0.0.1"), "/home"));
        Assert.Null(table.Find(81, "example.com", loopback, "/"));
    }
}
