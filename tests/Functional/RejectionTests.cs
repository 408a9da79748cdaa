using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Requests the server must refuse before the app runs: exact status line, Connection: close, and
/// the socket closed afterwards. Run on HttpSysLite and Kestrel (the full corpus is issue 3's).
/// </summary>
public abstract class RejectionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    protected abstract ServerKind Kind { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartSampleAsync(Kind);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> Cases => new()
    {
        { "GET /plaintext HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request" },                                   // no Host
        { "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 Bad Request" },             // two Hosts
        { "GET /plaintext HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP/1.1 400 Bad Request" },                       // space before colon
        { "GET /plaintext HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", "HTTP/1.1 400 Bad Request" },    // obs-fold
        { "GET /plaintext HTTP/1.2\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported" },
        { "GET /plaintext JUNK\r\nHost: a\r\n\r\n", "HTTP/1.1 400 Bad Request" },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400 Bad Request" },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 400 Bad Request" },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 400 Bad Request" },
        { "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('v', 40 * 1024) + "\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large" },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 Bad Request" }, // read by the app: 400 from the body
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AnswersAndCloses(string request, string statusLine)
    {
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync(request);
        var response = await connection.ReadResponseAsync();
        Assert.Equal(statusLine, response.StatusLine);
        Assert.True(response.HasConnectionClose, "Connection: close expected");
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task TheAnswerSurvivesInputTheServerNeverReads()
    {
        // A bad head followed by a megabyte the server never reads: the 400 must be sent before the close.
        // (Linux keeps data already received readable after a reset, so on loopback this cannot tell the
        // lingering close from a plain one; that close protects clients on real networks, where a reset
        // can overtake response segments still in flight.)
        await using var connection = await _server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\n\r\n");
        var junk = new byte[1024 * 1024];
        try
        {
            await connection.SendAsync(junk);
        }
        catch (SocketException)
        {
            // The server may close its side while we are still sending; the answer must still be readable.
        }
        var response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 400 Bad Request", response.StatusLine);
    }
}

public sealed class HttpSysLiteRejectionTests : RejectionTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;
}

public sealed class KestrelRejectionTests : RejectionTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine), which Linux otherwise never runs.</summary>
public sealed class SocketEngineRejectionTests : RejectionTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverRejectionTests : RejectionTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
