using System.Buffers;
using System.Net;
using System.Text;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Tests.Unit.Routing;

/// <summary>
/// Routing as a table, in the style of Go's serveMuxTests: one set of registrations across ports and
/// all four buckets, then {port, local address, Host, path} → {prefix or none, PathBase, Path}.
/// </summary>
public class PrefixRoutingTableTests
{
    private static readonly string[] Registrations =
    [
        "http://+:80/api/", "http://+:80/api/v2/",
        "http://example.com:80/", "http://example.com:80/shop/", "http://example.com:80/shop/cart/",
        "http://www.example.com:80/",
        "http://127.0.0.1:80/", "http://127.0.0.1:80/local/",
        "http://[::1]:80/v6/",
        "http://*:80/", "http://*:80/static/",
        "http://*:8080/only-weak/", "http://[::1]:8080/", "http://intranet:8080/app/",
        "http://+:9090/",
    ];

    private static readonly PrefixTable Table = PrefixTable.Create(
        Registrations.Select(p => new PrefixRegistration(UrlPrefix.Create(p), new UrlGroup(new HttpDriver(), new RequestQueue(p, null!)))));

    private const string Lan = "10.0.0.1";
    private const string V4 = "127.0.0.1";
    private const string V6 = "::1";

    /// <summary>port, local address, host, path → expected prefix ("" = none: 400), PathBase, Path.</summary>
    public static TheoryData<int, string, string, string, string, string, string> Rows => new()
    {
        // Strong wildcard wins over every other bucket, longest path first, whole segments only.
        { 80, Lan, "example.com", "/api/x", "http://+:80/api/", "/api", "/x" },
        { 80, Lan, "example.com", "/api", "http://+:80/api/", "/api", "" },
        { 80, Lan, "example.com", "/api/", "http://+:80/api/", "/api", "/" },
        { 80, Lan, "example.com", "/API/X", "http://+:80/api/", "/API", "/X" },
        { 80, Lan, "example.com", "/Api/v2/Orders", "http://+:80/api/v2/", "/Api/v2", "/Orders" },
        { 80, Lan, "example.com", "/api/v2", "http://+:80/api/v2/", "/api/v2", "" },
        { 80, Lan, "example.com", "/api/v2/", "http://+:80/api/v2/", "/api/v2", "/" },
        { 80, Lan, "example.com", "/api/v3", "http://+:80/api/", "/api", "/v3" },
        { 80, Lan, "example.com", "/api/v2x", "http://+:80/api/", "/api", "/v2x" },
        { 80, V4, "anything", "/api/x", "http://+:80/api/", "/api", "/x" },
        { 80, V6, "", "/api/x", "http://+:80/api/", "/api", "/x" },
        { 80, Lan, "example.com", "/apis", "http://example.com:80/", "", "/apis" },
        { 80, Lan, "example.com", "/api2/x", "http://example.com:80/", "", "/api2/x" },
        { 80, Lan, "example.com", "/api%2Fv2/x", "http://example.com:80/", "", "/api%2Fv2/x" },
        { 80, Lan, "example.com", "/ap", "http://example.com:80/", "", "/ap" },
        // Host names: exact, case-insensitive, longest path within the host.
        { 80, Lan, "example.com", "/", "http://example.com:80/", "", "/" },
        { 80, Lan, "example.com", "/shop/item/1", "http://example.com:80/shop/", "/shop", "/item/1" },
        { 80, Lan, "example.com", "/shop", "http://example.com:80/shop/", "/shop", "" },
        { 80, Lan, "example.com", "/SHOP/", "http://example.com:80/shop/", "/SHOP", "/" },
        { 80, Lan, "example.com", "/shop/cart/1", "http://example.com:80/shop/cart/", "/shop/cart", "/1" },
        { 80, Lan, "example.com", "/shop/cart", "http://example.com:80/shop/cart/", "/shop/cart", "" },
        { 80, Lan, "example.com", "/shop/carts", "http://example.com:80/shop/", "/shop", "/carts" },
        { 80, Lan, "example.com", "/shopping", "http://example.com:80/", "", "/shopping" },
        { 80, Lan, "EXAMPLE.COM", "/shop/x", "http://example.com:80/shop/", "/shop", "/x" },
        { 80, Lan, "Example.Com", "/x", "http://example.com:80/", "", "/x" },
        { 80, Lan, "www.example.com", "/shop/x", "http://www.example.com:80/", "", "/shop/x" },
        { 80, Lan, "example.com", "/static/a.css", "http://example.com:80/", "", "/static/a.css" },
        { 80, V4, "example.com", "/local/x", "http://example.com:80/", "", "/local/x" },
        { 80, Lan, "sub.example.com", "/x", "http://*:80/", "", "/x" },
        { 80, Lan, "example.co", "/x", "http://*:80/", "", "/x" },
        // IP-bound: the local address the connection arrived on, whatever the Host says.
        { 80, V4, "other.org", "/x", "http://127.0.0.1:80/", "", "/x" },
        { 80, V4, "other.org", "/local/a", "http://127.0.0.1:80/local/", "/local", "/a" },
        { 80, V4, "127.0.0.1", "/local", "http://127.0.0.1:80/local/", "/local", "" },
        { 80, V4, "", "/localhost", "http://127.0.0.1:80/", "", "/localhost" },
        { 80, V6, "other.org", "/v6/x", "http://[::1]:80/v6/", "/v6", "/x" },
        { 80, V6, "other.org", "/V6", "http://[::1]:80/v6/", "/V6", "" },
        { 80, V6, "other.org", "/x", "http://*:80/", "", "/x" },
        { 80, V6, "[::1]", "/v6", "http://[::1]:80/v6/", "/v6", "" },
        // Weak wildcard: what nothing else claimed.
        { 80, Lan, "other.org", "/x", "http://*:80/", "", "/x" },
        { 80, Lan, "other.org", "/", "http://*:80/", "", "/" },
        { 80, Lan, "", "/", "http://*:80/", "", "/" },
        { 80, Lan, "other.org", "/static/a.css", "http://*:80/static/", "/static", "/a.css" },
        { 80, Lan, "other.org", "/static", "http://*:80/static/", "/static", "" },
        { 80, Lan, "other.org", "/STATIC/A", "http://*:80/static/", "/STATIC", "/A" },
        { 80, Lan, "other.org", "/statics", "http://*:80/", "", "/statics" },
        { 80, Lan, "other.org", "/api", "http://+:80/api/", "/api", "" },
        // Port 8080: no strong wildcard, no weak root.
        { 8080, Lan, "other.org", "/only-weak/a", "http://*:8080/only-weak/", "/only-weak", "/a" },
        { 8080, Lan, "other.org", "/only-weak", "http://*:8080/only-weak/", "/only-weak", "" },
        { 8080, Lan, "other.org", "/other", "", "", "" },
        { 8080, Lan, "other.org", "/", "", "", "" },
        { 8080, V6, "other.org", "/other", "http://[::1]:8080/", "", "/other" },
        { 8080, V6, "other.org", "/only-weak/a", "http://[::1]:8080/", "", "/only-weak/a" },
        { 8080, Lan, "intranet", "/app/x", "http://intranet:8080/app/", "/app", "/x" },
        { 8080, Lan, "INTRANET", "/App", "http://intranet:8080/app/", "/App", "" },
        { 8080, V6, "intranet", "/other", "http://[::1]:8080/", "", "/other" },
        { 8080, Lan, "intranet", "/other", "", "", "" },
        { 8080, Lan, "intranet", "/only-weak/z", "http://*:8080/only-weak/", "/only-weak", "/z" },
        { 8080, V4, "intranet", "/apple", "", "", "" },
        // Port 9090: one strong root takes everything.
        { 9090, Lan, "any", "/", "http://+:9090/", "", "/" },
        { 9090, V6, "", "/deep/path/x", "http://+:9090/", "", "/deep/path/x" },
        { 9090, V4, "example.com", "/api/x", "http://+:9090/", "", "/api/x" },
        // Ports nobody registered.
        { 81, Lan, "example.com", "/", "", "", "" },
        { 443, V4, "example.com", "/api/x", "", "", "" },
        { 0, V4, "example.com", "/", "", "", "" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Routes(int port, string local, string host, string path, string expected, string pathBase, string rest)
    {
        var found = Table.Find(port, host, IPAddress.Parse(local), path);
        if (expected.Length == 0)
        {
            Assert.Null(found);
            return;
        }
        Assert.NotNull(found);
        Assert.Equal(expected, found.Prefix.FullPrefix);
        found.Prefix.SplitPath(path, out string actualBase, out string actualPath);
        Assert.Equal(pathBase, actualBase);
        Assert.Equal(rest, actualPath);
    }

    [Fact]
    public void TheTableHasAtLeastSixtyRows() => Assert.True(Rows.Count() >= 60);

    /// <summary>
    /// Hostile targets, from the raw request-target to the prefix they reach. Registered: a public and an
    /// admin prefix on the strong wildcard and a weak root. The canonical path alone decides; "" = refused.
    /// </summary>
    public static TheoryData<string, string> HostilePaths => new()
    {
        { "/public/../admin/secret", "/admin/" },
        { "/public/%2e%2e/admin/secret", "/admin/" },
        { "/public/%2E%2E/admin", "/admin/" },
        { "/public/.%2e/admin", "/admin/" },
        { "/public/%2e./admin", "/admin/" },
        { "/public/..%2Fadmin", "/public/" },            // %2F is data, not a separator: no dot segment
        { "/public/..%2fadmin", "/public/" },
        { "/public/..\\admin", "/admin/" },              // a backslash is a separator (HTTP.sys)
        { "/public/..%5Cadmin", "/admin/" },
        { "/public/..%5cadmin", "/admin/" },
        { "/public/%2e%2e%5cadmin", "/admin/" },
        { "/admin/../public/x", "/public/" },
        { "/admin%2F../public", "/" },                    // one segment "admin%2F..": neither prefix
        { "/ADMIN/x", "/admin/" },
        { "/Admin", "/admin/" },
        { "/admin.", "/" },
        { "/admin%2500", "/" },                           // decoded once: the literal text "%00"
        { "/%61dmin/x", "/admin/" },
        { "/%41DMIN/x", "/admin/" },
        { "/public/%252e%252e/admin", "/public/" },       // no double decoding
        { "/public/%E2%80%AE/x", "/public/" },            // valid UTF-8 (an RTL override) is just data
        { "//admin/x", "/" },                             // an empty first segment is not "admin"
        { "/./admin/x", "/admin/" },
        { "/public/./../admin", "/admin/" },
        { "/../admin", "/admin/" },                       // above the root stays at the root
        { "/../../../admin/x", "/admin/" },
        { "/public/..", "/" },
        { "/public/...", "/public/" },                    // three dots are a name
        { "/public;/../admin", "/admin/" },
        { "/admin%00/x", "" },                            // encoded NUL
        { "/admin%09", "" },                              // encoded tab
        { "/admin%7f", "" },                              // encoded DEL
        { "/admin%0d%0a", "" },                           // encoded CRLF
        { "/%C0%AE%C0%AE/admin", "" },                    // overlong UTF-8 dots
        { "/%C0%AFadmin", "" },                           // overlong UTF-8 slash
        { "/%ED%A0%80/admin", "" },                       // a UTF-16 surrogate encoded as UTF-8
        { "/admin%", "" },                                // truncated escape
        { "/admin%zz", "" },
        // A fragment is dropped before the path is read: its separators and dot-segments count for nothing.
        { "/public#/../admin/x", "/public/" },
        { "/public/x#/../../admin", "/public/" },
        { "/public#%2e%2e/admin", "/public/" },
        { "/admin#", "/admin/" },
        { "/public/%23/../../admin/x", "/admin/" },       // an encoded '#' is data; the dot-segments around it are real
        { "/public?x=/../../admin", "/public/" },         // nor does a query hold path segments
        // Characters RFC 3986 leaves out are one more segment's data, raw or encoded.
        { "/public/\"|{}^`<>/../../admin", "/admin/" },
        { "/public/%22%7C%7B%7D%5E%60%3C%3E/x", "/public/" },
        { "/admin\u007f", "" },                          // DEL raw is still refused
        // absolute-form: userinfo is not the host, and a fragment can end the authority.
        { "http://u:p@example.com/admin/x", "/admin/" },
        { "http://example.com@evil.org/admin/x", "" },   // the authority is evil.org, the Host example.com
        { "http://example.com\\@evil.org/admin/x", "" },  // '\' is no userinfo: the two URL readings disagree
        { "http://example.com#@evil.org/admin/x", "/" },
    };

    [Theory]
    [MemberData(nameof(HostilePaths))]
    public void HostilePathReachesOnlyWhatItsCanonicalPathMatches(string rawTarget, string expectedPrefixPath)
    {
        var group = new UrlGroup(new HttpDriver(), new RequestQueue(null, null!));
        var table = PrefixTable.Create(new[] { "http://+:80/public/", "http://+:80/admin/", "http://*:80/" }
            .Select(p => new PrefixRegistration(UrlPrefix.Create(p), group)));

        // The whole request line, as the connection reads it: parse, then validate (the target's form, Host).
        byte[] head = Encoding.Latin1.GetBytes($"GET {rawTarget} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        var context = RequestContext.CreateDetached(HttpParserLimits.Default);
        context.Reset();
        var handler = new RequestHeadHandler(context);
        var reason = HttpParser.ParseHead(new ReadOnlySequence<byte>(head), ref handler, HttpParserLimits.Default, out _, out var parseReason) == ParseResult.Done
            ? handler.Validate(out _)
            : parseReason;
        string path = context.CanonicalPath;
        if (expectedPrefixPath.Length == 0)
        {
            Assert.True(reason != RequestRejectionReason.None, $"'{rawTarget}' should be refused, got '{path}'");
            return;
        }
        Assert.True(reason == RequestRejectionReason.None, $"'{rawTarget}' was refused: {reason}");
        Assert.Equal("example.com", context.Host);
        var found = table.Find(80, context.Host, IPAddress.Loopback, path);
        Assert.NotNull(found);
        Assert.Equal(expectedPrefixPath, found.Prefix.Path);
    }

    [Fact]
    public void ThereAreAtLeastThirtyHostilePaths() => Assert.True(HostilePaths.Count() >= 30);
}
