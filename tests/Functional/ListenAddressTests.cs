using System.Net;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Every listen form of README's table, served by the sample in a network namespace of the test's own,
/// where a wildcard bind is visible beyond loopback (192.0.2.10 and 2001:db8::10). Each form is probed
/// on the four addresses, with the address itself as Host, and on the Hosts the form names.
/// </summary>
public sealed class ListenAddressTests
{
    private const int Port = 8080; // the namespace is new: nothing else listens in it

    private static readonly IPAddress[] s_addresses = [IPAddress.Loopback, IPAddress.IPv6Loopback, NetworkNamespace.OtherIPv4, NetworkNamespace.OtherIPv6];

    public static TheoryData<string, string, string> Forms => new()
    {
        // form (as --urls, or an environment variable), what each address answers, what named Hosts get
        { "http://+:8080", "127.0.0.1=200 ::1=200 192.0.2.10=200 2001:db8::10=200", "" },
        { "http://*:8080", "127.0.0.1=200 ::1=200 192.0.2.10=200 2001:db8::10=200", "" },
        { "http://example.test:8080",
            "127.0.0.1=400 Invalid Hostname ::1=400 Invalid Hostname 192.0.2.10=400 Invalid Hostname 2001:db8::10=400 Invalid Hostname",
            "example.test@192.0.2.10=200 example.test@2001:db8::10=200 example.test@127.0.0.1=200" },
        { "http://localhost:8080", "127.0.0.1=200 ::1=200 192.0.2.10=refused 2001:db8::10=refused",
            "localhost@127.0.0.1=200 localhost@::1=200 example.test@127.0.0.1=400 Invalid Hostname" },
        { "http://192.0.2.10:8080", "127.0.0.1=refused ::1=refused 192.0.2.10=200 2001:db8::10=refused", "example.test@192.0.2.10=200" },
        { "http://[2001:db8::10]:8080", "127.0.0.1=refused ::1=refused 192.0.2.10=refused 2001:db8::10=200", "" },
        { "http://0.0.0.0:8080", "127.0.0.1=200 ::1=refused 192.0.2.10=200 2001:db8::10=refused", "example.test@192.0.2.10=200" },
        { "http://[::]:8080", "127.0.0.1=200 ::1=200 192.0.2.10=200 2001:db8::10=200", "example.test@2001:db8::10=200" },
        { "ASPNETCORE_HTTP_PORTS=8080", "127.0.0.1=200 ::1=200 192.0.2.10=200 2001:db8::10=200", "" },
        // Port 0: an ephemeral port, the same for both loopback addresses of localhost.
        { "http://localhost:0", "127.0.0.1=200 ::1=200 192.0.2.10=refused 2001:db8::10=refused", "localhost@::1=200" },
        { "http://0.0.0.0:0", "127.0.0.1=200 ::1=refused 192.0.2.10=200 2001:db8::10=refused", "" },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task EachListenFormIsReachableWhereItSaysAndNowhereElse(string form, string byAddress, string byHost)
    {
        if (NetworkNamespace.Unavailable() is { } why)
        {
            Assert.Fail($"This test needs a network namespace: {why}.");
        }
        using var network = NetworkNamespace.Create();
        var environment = new Dictionary<string, string?>();
        string arguments = "";
        if (form.StartsWith("ASPNETCORE_", StringComparison.Ordinal))
        {
            string[] pair = form.Split('=');
            environment[pair[0]] = pair[1];
        }
        else
        {
            arguments = $"--urls {form}";
        }
        await using var sample = await SampleProcess.StartAsync(arguments, network: network, environment: environment);
        int port = form.EndsWith(":0", StringComparison.Ordinal) ? sample.Port : Port;
        Assert.NotEqual(0, port);

        var seen = new List<string>();
        foreach (var address in s_addresses)
        {
            seen.Add($"{address}={await ProbeAsync(network, address, port, HostOf(address, port))}");
        }
        Assert.Equal(byAddress, string.Join(' ', seen));

        var named = new List<string>();
        foreach (string probe in byHost.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!probe.Contains('@'))
            {
                continue; // the rest of an expected "400 Invalid Hostname"
            }
            string[] parts = probe.Split('@', '=');
            named.Add($"{parts[0]}@{parts[1]}={await ProbeAsync(network, IPAddress.Parse(parts[1]), port, $"{parts[0]}:{port}")}");
        }
        Assert.Equal(byHost, string.Join(' ', named));
    }

    private static string HostOf(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    /// <summary>A GET from inside the namespace: "refused", the status, or for a 400 the reason its body gives.</summary>
    private static async Task<string> ProbeAsync(NetworkNamespace network, IPAddress address, int port, string host)
    {
        var socket = network.TryConnect(new IPEndPoint(address, port));
        if (socket is null)
        {
            return "refused";
        }
        await using var connection = RawConnection.Over(socket);
        await connection.SendAsync($"GET /plaintext HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        if (response.StatusCode == 200)
        {
            Assert.Equal("Hello, World!", response.BodyText);
            return "200";
        }
        // "Bad Request - Invalid Hostname" becomes "400 Invalid Hostname".
        string reason = response.BodyText.Split("\r\n")[0].Replace("Bad Request - ", "", StringComparison.Ordinal);
        return $"{response.StatusCode} {reason}".TrimEnd();
    }
}
