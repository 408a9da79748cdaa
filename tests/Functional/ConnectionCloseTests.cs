using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// How a connection ends after its last response (RFC 9112 section 9.6). A client that asked to close
/// has said it sends nothing more, so the server closes at once, as Kestrel does. When the server
/// decides to close, the client may still be sending (pipelined requests); closing then would answer
/// those bytes with a reset that can destroy the response, so the server lingers: it reads and drops
/// input until the client's FIN, for at most <see cref="TransportConnection.LingerTimeout"/>.
/// A socket that is fully closed answers new data with a reset; one still lingering does not.
/// </summary>
public sealed class ConnectionCloseTests
{
    [Theory]
    [InlineData(ServerKind.HttpSysLite)]
    [InlineData(ServerKind.Kestrel)]
    [InlineData(ServerKind.HttpSysLiteSocketEngine)]
    public async Task AClientThatAskedToCloseIsClosedAtOnce(ServerKind kind)
    {
        await using var server = await TestServer.StartSampleAsync(kind);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.True(await connection.IsClosedByServerAsync());

        // Our side stays open. The server's socket is gone, so what we send now is answered with a reset.
        // Well within LingerTimeout: the server did not wait for our FIN.
        Assert.True(await IsResetWithinAsync(connection, TransportConnection.LingerTimeout / 2), "the server kept the socket open");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AServerThatClosesLingersForTheClientThenGivesUp(bool socketEngine)
    {
        var fake = new FakeClock(socketEngine);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.MapGet("/bye", static context =>
        {
            context.Response.Headers.Connection = "close";
            return context.Response.WriteAsync("bye");
        }), services: fake.Register);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /bye HTTP/1.1\r\nHost: a\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync());
        await FakeClock.WaitUntilAsync(() => fake.Driver.Connections.Any(c => c.Transport.Timeouts.IsLingerExpired(long.MaxValue - 1)),
            "the server did not linger");

        // The client did not ask to close and sends a pipelined request: read and dropped, no reset.
        await connection.SendAsync("GET /bye HTTP/1.1\r\nHost: a\r\n\r\n");
        fake.Advance(TransportConnection.LingerTimeout - TimeSpan.FromMilliseconds(500));
        await connection.SendAsync("GET /bye HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.False(await IsResetWithinAsync(connection, TimeSpan.FromMilliseconds(200)), "the server closed without lingering");

        // It never sends its FIN: the server stops waiting after LingerTimeout (checked by the heartbeat).
        fake.Advance(TimeSpan.FromMilliseconds(500) + FakeClock.Late);
        Assert.True(await IsResetWithinAsync(connection, TimeSpan.FromSeconds(10)), "the server lingered forever");
    }

    /// <summary>Sends a byte now and then until a send or receive reports a reset; false if none came within <paramref name="within"/>.</summary>
    private static async Task<bool> IsResetWithinAsync(RawConnection connection, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var scratch = new byte[256];
        while (true)
        {
            try
            {
                // A fully closed peer answers with a reset, which the next send or receive reports.
                await connection.Socket.SendAsync("x"u8.ToArray(), SocketFlags.None);
                await Task.Delay(50);
                await connection.Socket.ReceiveAsync(scratch, SocketFlags.None); // 0 at once: the FIN came before
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
            {
                return true;
            }
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
        }
    }
}
