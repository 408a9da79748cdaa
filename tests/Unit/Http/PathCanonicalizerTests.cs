using System.Text;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Tests.Unit.Http;

public class PathCanonicalizerTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/plaintext", "/plaintext")]
    [InlineData("/a/b/c/", "/a/b/c/")]
    [InlineData("/a%20b", "/a b")]
    [InlineData("/%41%42%43", "/ABC")]
    [InlineData("/caf%C3%A9", "/caf\u00e9")]
    [InlineData("/a%2Fb", "/a%2Fb")]        // %2F stays encoded (as Kestrel and HttpSys keep it)
    [InlineData("/a%2fb", "/a%2fb")]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/../b", "/b")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/b/.", "/a/b/")]
    [InlineData("/..", "/")]
    [InlineData("/../../etc/passwd", "/etc/passwd")]
    [InlineData("/app/%2e%2e/admin", "/admin")]    // encoded dots are dots once decoded
    [InlineData("/app/%2E/x", "/app/x")]
    [InlineData("/a/.hidden", "/a/.hidden")]
    [InlineData("/a/..b", "/a/..b")]
    [InlineData("/a%252e%252e/b", "/a%2e%2e/b")]   // decoded once only: no double decoding
    [InlineData("/a\\b", "/a/b")]                  // a backslash is a separator, as in HTTP.sys
    [InlineData("/a%5Cb", "/a/b")]
    [InlineData("/a/b\\..\\c", "/a/c")]
    public void Canonicalizes(string raw, string expected)
    {
        Assert.True(PathCanonicalizer.TryCanonicalize(Encoding.ASCII.GetBytes(raw), out string path));
        Assert.Equal(expected, path);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("/a%00b")]       // encoded NUL
    [InlineData("/a%0Ab")]       // encoded LF
    [InlineData("/a%7F")]        // encoded DEL
    [InlineData("/a%")]          // truncated escape
    [InlineData("/a%4")]
    [InlineData("/a%zz")]
    [InlineData("/%C0%AE%C0%AE/")]   // overlong UTF-8 for '.'
    [InlineData("/%FF")]             // not UTF-8 at all
    [InlineData("/%C3")]             // truncated UTF-8
    public void Rejects(string raw)
    {
        Assert.False(PathCanonicalizer.TryCanonicalize(Encoding.ASCII.GetBytes(raw), out _));
    }
}
