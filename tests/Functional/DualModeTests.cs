using System.Net;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// HttpSysLite only (Kestrel binds what it is told and has no prefix semantics): a wildcard prefix is
/// one dual-mode IPv6 socket serving both families; IPv4 peers appear to the app as plain IPv4.
/// </summary>
public sealed class DualModeTests
{
    private static void MapWhoAmI(WebApplication app) => app.MapGet("/whoami", static context =>
        context.Response.WriteAsync($"{context.Connection.RemoteIpAddress}|{context.Connection.LocalIpAddress}|{context.Connection.LocalPort}"));

    [Fact]
    public async Task IPv4AndIPv6ClientsReachTheSameListeningSocket()
    {
        Assert.True(Socket.OSSupportsIPv6, "this test needs IPv6 loopback ([::1])");
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, MapWhoAmI, url: "http://+:0/");

        // One socket, bound to [::] on the reported port: no separate IPv4 listener.
        var listeners = HttpDriver.Shared.ListenEndPoints.Where(e => e.Port == server.Port).ToArray();
        var only = Assert.Single(listeners);
        Assert.Equal(IPAddress.IPv6Any, only.Address);
        Assert.DoesNotContain(ProcNetListeners("/proc/net/tcp"), port => port == server.Port);
        Assert.Contains(ProcNetListeners("/proc/net/tcp6"), port => port == server.Port);

        using var client = new HttpClient();
        string v4 = await client.GetStringAsync($"http://127.0.0.1:{server.Port}/whoami");
        string v6 = await client.GetStringAsync($"http://[::1]:{server.Port}/whoami");
        Assert.Equal($"127.0.0.1|127.0.0.1|{server.Port}", v4); // not ::ffff:127.0.0.1
        Assert.Equal($"::1|::1|{server.Port}", v6);
    }

    [Fact]
    public async Task AnIPv4LiteralPrefixBindsOnlyThatAddress()
    {
        Assert.True(Socket.OSSupportsIPv6, "this test needs IPv6 loopback ([::1])");
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, MapWhoAmI, url: "http://127.0.0.1:0/");
        using var client = new HttpClient();
        Assert.StartsWith("127.0.0.1|", await client.GetStringAsync($"http://127.0.0.1:{server.Port}/whoami"));
        await Assert.ThrowsAnyAsync<SocketException>(() => RawConnection.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, server.Port)));
    }

    [Fact]
    public async Task ServerAddressesReportTheBoundPort()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, MapWhoAmI, url: "http://localhost:0/");
        var addresses = server.Server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        Assert.Equal($"http://localhost:{server.Port}/", Assert.Single(addresses));
        Assert.NotEqual(0, server.Port);
    }

    [Fact]
    public async Task AnUnmatchedHostIs400AsInHttpSys()
    {
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, MapWhoAmI, url: "http://localhost:0/");
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /whoami HTTP/1.1\r\nHost: example.org\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 400 Bad Request", response.StatusLine);
        Assert.True(response.HasConnectionClose);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    /// <summary>Ports in LISTEN state (st 0A) in a /proc/net/tcp* table.</summary>
    private static IEnumerable<int> ProcNetListeners(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[3] == "0A")
            {
                yield return Convert.ToInt32(fields[1].Split(':')[1], 16);
            }
        }
    }
}
