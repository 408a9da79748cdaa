using HttpSysLite.Tests.Corpus;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// One functional test per rejection class of issue 3: the exact status line, Connection: close, and the
/// socket closed by the server afterwards. The requests are the corpus's (tests/Unit/Corpus), sent to a
/// server with the corpus's limits whose app reads the whole body (so body errors surface as they would
/// in an app). The Kestrel comparison of the same requests is in <see cref="RequestCorpusTests"/>.
/// </summary>
public sealed class RejectionClassTests : IAsyncLifetime
{
    private static readonly RequestCorpus Corpus = RequestCorpus.Loaded;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.WriteAsync("read");
        }), RequestCorpusTests.ApplyCorpusLimits);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string BadRequest = "HTTP/1.1 400 Bad Request";

    public static TheoryData<string, string> Classes => new()
    {
        // malformed request line or method token
        { "line/two-spaces-after-method", BadRequest },
        { "line/method-slash", BadRequest },
        { "line/http09-no-version", BadRequest },
        // unsupported version
        { "version/http20", "HTTP/1.1 505 HTTP Version Not Supported" },
        // request line over the limit
        { "limit/request-line-over", "HTTP/1.1 414 URI Too Long" },
        { "limit/request-line-over-unterminated", "HTTP/1.1 414 URI Too Long" },
        // header section over MaxRequestBytes / MaxFieldLength / MaxRequestHeaderCount
        { "limit/head-over", "HTTP/1.1 431 Request Header Fields Too Large" },
        { "limit/field-line-over", "HTTP/1.1 431 Request Header Fields Too Large" },
        { "limit/header-count-over", "HTTP/1.1 431 Request Header Fields Too Large" },
        // Host: missing, repeated, invalid
        { "host/missing-http11", BadRequest },
        { "host/repeated-same", BadRequest },
        { "host/space-inside", BadRequest },
        { "host/port-not-numeric", BadRequest },
        // field names and values
        { "header/name-paren-open", BadRequest },
        { "header/space-before-colon", BadRequest },
        { "header/obs-fold-space", BadRequest },
        { "header/value-nul", BadRequest },
        { "header/value-bare-cr", BadRequest },
        // bare CR anywhere
        { "line/bare-cr-ends-line", BadRequest },
        { "header/bare-cr-line-end", BadRequest },
        // Content-Length invalid, negative, overflowing, repeated
        { "length/hex", BadRequest },
        { "length/negative", BadRequest },
        { "length/overflow-int64", BadRequest },
        { "length/repeated-different", BadRequest },
        // Transfer-Encoding with Content-Length, final coding not chunked, unknown coding
        { "te/with-content-length", BadRequest },
        { "te/chunked-not-last", BadRequest },
        { "te/unknown-coding", "HTTP/1.1 501 Not Implemented" },
        // chunked framing: size overflow, invalid size, invalid extension, no CRLF after data, trailer over the limits
        { "chunked/size-overflow", BadRequest },
        { "chunked/bad-hex", BadRequest },
        { "chunked/extension-bad-name", BadRequest },
        { "chunked/data-missing-crlf", BadRequest },
        { "limit/trailer-section-over", BadRequest },
        { "limit/trailer-count-over", BadRequest },
        // request-target forms
        { "target/absolute-host-mismatch", BadRequest },
        { "target/authority-form-with-get", "HTTP/1.1 405 Method Not Allowed" },
        { "target/asterisk-with-get", "HTTP/1.1 405 Method Not Allowed" },
        { "target/relative-path", BadRequest },
        // a TLS ClientHello on the plain port
        { "line/tls-client-hello", BadRequest },
        // body over MaxRequestBodySize: by Content-Length before the app reads, during the read when chunked
        { "limit/body-length-over-before-any-byte", "HTTP/1.1 413 Payload Too Large" },
        { "limit/body-chunked-over", "HTTP/1.1 413 Payload Too Large" },
        // URL segment limits
        { "limit/segment-length-over", BadRequest },
        { "limit/segment-count-over", BadRequest },
        // the path cannot be canonicalised
        { "target/encoded-crlf", BadRequest },
    };

    [Theory]
    [MemberData(nameof(Classes))]
    public async Task AnswersWithTheExactStatusLineAndCloses(string caseName, string statusLine)
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync(Corpus[caseName].Request);
        var response = await connection.ReadResponseAsync();
        Assert.Equal(statusLine, response.StatusLine);
        Assert.True(response.HasConnectionClose, "Connection: close expected");
        Assert.True(await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), "the server must close the connection");
    }
}
