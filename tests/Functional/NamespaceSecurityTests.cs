using System.Net;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Tests.Unit.Support;
using Xunit.Abstractions;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// URL reservations in the shared driver (HTTP.sys's urlacl), with real Unix users made for each test
/// (useradd) running the sample through the driver: root registers anything, another user only what a
/// reservation for it or one of its groups covers. The driver runs as root and keeps its reservations
/// in a config file of the test's own.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NamespaceSecurityTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("httpsyslite-urlacl-").FullName;

    private string Config => Path.Combine(_directory, "driver.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Task<(int? ExitCode, string Output)> RunSampleAsync(DriverProcess driver, string url, UnixUser user) =>
        SampleProcess.RunToExitAsync($"--driver \"{driver.Socket}\" --urls {url}", TimeSpan.FromSeconds(60), user);

    [Fact]
    public async Task ARegistrationNoReservationCoversFailsNamingThePrefixTheUserAndTheCommand()
    {
        using var user = UnixUser.Create();
        await using var driver = await DriverProcess.StartAsync(config: Config);
        int port = TlsClient.FreePort();
        var (exitCode, log) = await RunSampleAsync(driver, $"http://+:{port}/", user);
        output.WriteLine(log);
        Assert.NotEqual(0, exitCode);
        string command = $"httpsyslite urlacl add url=http://+:{port}/ user={user.Name}";
        Assert.Contains("ERROR_ACCESS_DENIED", log);
        Assert.Contains($"user '{user.Name}' (uid {user.Uid}) may not register http://+:{port}/", log);
        Assert.Contains(command, log);
        // The driver's log says the same.
        Assert.Contains(driver.Output, line => line.Contains(command, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReservationForAParentUrlLetsTheUserServeBelowItOnPort80()
    {
        using var user = UnixUser.Create();
        await using var driver = await DriverProcess.StartAsync(config: Config);
        var (code, text) = await driver.RunVerbAsync($"urlacl add url=http://+:80/ user={user.Name}");
        Assert.True(code == 0, text);
        // A port below 1024, by a user that could never bind it: the driver owns the socket.
        await using var app = await SampleProcess.StartAsync($"--driver \"{driver.Socket}\" --urls http://+:80/{user.Name}/", user: user);
        using var client = new HttpClient { BaseAddress = new Uri("http://127.0.0.1/") };
        Assert.Equal("Hello, World!", await client.GetStringAsync($"{user.Name}/plaintext"));
        // Outside the reservation's port, the same user is refused.
        var (exitCode, log) = await RunSampleAsync(driver, $"http://+:{TlsClient.FreePort()}/", user);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("ERROR_ACCESS_DENIED", log);
        var (_, state) = await driver.RunVerbAsync("show servicestate");
        output.WriteLine(state);
        Assert.Contains($"pid {app.Id}, uid {user.Uid} ({user.Name})", state);
        Assert.Contains($"http://+:80/{user.Name}/", state);
    }

    [Fact]
    public async Task AGroupReservationAdmitsItsMembers()
    {
        using var member = UnixUser.Create(withGroup: true);
        using var outsider = UnixUser.Create();
        await using var driver = await DriverProcess.StartAsync(config: Config);
        int port = TlsClient.FreePort();
        var (code, text) = await driver.RunVerbAsync($"urlacl add url=http://+:{port}/ group={member.Group}");
        Assert.True(code == 0, text);
        await using (var app = await SampleProcess.StartAsync($"--driver \"{driver.Socket}\" --urls http://+:{port}/", user: member))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.Equal("Hello, World!", await client.GetStringAsync("plaintext"));
        }
        var (exitCode, log) = await RunSampleAsync(driver, $"http://+:{port}/", outsider);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"user '{outsider.Name}'", log);
    }

    [Fact]
    public async Task TheVerbsCheckTheirInputAndWhoAsksAndChangeNothingWhenRefused()
    {
        using var user = UnixUser.Create();
        await using var driver = await DriverProcess.StartAsync(config: Config);
        int port = TlsClient.FreePort();
        var cases = new (string Verb, UnixUser? As, string Expected)[]
        {
            ("urlacl add url=not-a-url user=root", null, "Invalid URL prefix"),
            ($"urlacl add url=http://+:{port}/ user=no-such-user-here", null, "no local user 'no-such-user-here'"),
            ($"urlacl add url=http://+:{port}/ group=no-such-group-here", null, "no local group 'no-such-group-here'"),
            ($"urlacl add url=http://+:{port}/", null, "user=NAME or group=NAME"),
            ($"urlacl add url=http://+:{port}/ user={user.Name}", user, "Only root may add a URL reservation"),
            ($"urlacl delete url=http://+:{port}/", null, "has no reservation"),
        };
        foreach (var (verb, who, expected) in cases)
        {
            var (code, text) = await driver.RunVerbAsync(verb, who);
            Assert.True(code != 0, $"{verb}: {text}");
            Assert.Contains(expected, text);
        }
        Assert.Equal(0, (await driver.RunVerbAsync($"urlacl add url=http://+:{port}/ user={user.Name}")).ExitCode);
        var duplicate = await driver.RunVerbAsync($"urlacl add url=http://+:{port}/ user=root");
        Assert.Contains("reserved already", duplicate.Output);
        var (_, list) = await driver.RunVerbAsync("show urlacl");
        Assert.Single(list.Split('\n'), line => line.Contains("Reserved URL", StringComparison.Ordinal));
        // Anyone may look (as with netsh), and the reservation's own user may delete it.
        Assert.Contains($"User: {user.Name} (uid {user.Uid})", (await driver.RunVerbAsync("show urlacl", user)).Output);
        Assert.Equal(0, (await driver.RunVerbAsync($"urlacl delete url=http://+:{port}/", user)).ExitCode);
        Assert.DoesNotContain("Reserved URL", (await driver.RunVerbAsync("show urlacl")).Output);
    }

    [Fact]
    public async Task ReservationsSurviveARestartAndAConfigThatDoesNotParseIsRefusedUnchanged()
    {
        using var user = UnixUser.Create();
        int port = TlsClient.FreePort();
        await using (var first = await DriverProcess.StartAsync(config: Config))
        {
            Assert.Equal(0, (await first.RunVerbAsync($"urlacl add url=http://+:{port}/ user={user.Name}")).ExitCode);
        }
        await using (var second = await DriverProcess.StartAsync(config: Config))
        {
            Assert.Contains($"http://+:{port}/", (await second.RunVerbAsync("show urlacl")).Output);
            await using var app = await SampleProcess.StartAsync($"--driver \"{second.Socket}\" --urls http://+:{port}/", user: user);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.Equal("Hello, World!", await client.GetStringAsync("plaintext"));
        }
        // Edited into invalid JSON: the driver does not start, says where, and leaves the file alone.
        string broken = File.ReadAllText(Config).Replace("\"user\":", "\"user\" ", StringComparison.Ordinal);
        File.WriteAllText(Config, broken);
        var (exitCode, log) = await DriverProcess.RunToolAsync($"serve --socket \"{Path.Combine(_directory, "x.sock")}\" --config \"{Config}\"");
        output.WriteLine(log);
        Assert.NotEqual(0, exitCode);
        Assert.Matches(@"is not valid JSON at line \d+, column \d+", log);
        Assert.Equal(broken, File.ReadAllText(Config));
    }

    [Fact]
    public async Task OnlyTheUsersAQueuesDescriptorAdmitsCanAttachToIt()
    {
        using var creator = UnixUser.Create();
        using var allowed = UnixUser.Create(withGroup: true);
        using var outsider = UnixUser.Create();
        await using var driver = await DriverProcess.StartAsync(config: Config);
        int port = TlsClient.FreePort();
        Assert.Equal(0, (await driver.RunVerbAsync($"urlacl add url=http://+:{port}/ user={creator.Name}")).ExitCode);
        string queue = $"q{Guid.NewGuid():n}"[..12];
        uint groupId = uint.Parse((await RunAsync("getent", $"group {allowed.Group}")).Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
        // The creator admits itself and the allowed user's group (Samba's SIDs for a Unix user and group).
        string sddl = $"D:(A;;GA;;;S-1-22-1-{creator.Uid})(A;;GA;;;S-1-22-2-{groupId})";
        string attach = $"--driver \"{driver.Socket}\" --HttpSysLite:RequestQueueName={queue} --HttpSysLite:RequestQueueMode=Attach";
        await using var first = await SampleProcess.StartAsync(
            $"--driver \"{driver.Socket}\" --urls http://+:{port}/ --HttpSysLite:RequestQueueName={queue} --HttpSysLite:RequestQueueSecurityDescriptorSddl=\"{sddl}\"",
            user: creator);
        await using var second = await SampleProcess.StartAsync(attach, user: allowed, readyLine: "Attached to the HttpSysLite driver");
        var (exitCode, log) = await SampleProcess.RunToExitAsync(attach, TimeSpan.FromSeconds(60), outsider);
        output.WriteLine(log);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"user '{outsider.Name}' (uid {outsider.Uid}) may not attach to request queue '{queue}'", log);
        Assert.Contains("ERROR_ACCESS_DENIED", log);
        var (_, state) = await driver.RunVerbAsync("show servicestate");
        output.WriteLine(state);
        Assert.Contains($"pid {first.Id}, uid {creator.Uid}", state);
        Assert.Contains($"pid {second.Id}, uid {allowed.Uid}", state);
        Assert.DoesNotContain($"uid {outsider.Uid}", state);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.Equal("Hello, World!", await client.GetStringAsync("plaintext"));
    }

    private static async Task<string> RunAsync(string file, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments) { RedirectStandardOutput = true })!;
        string text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return text;
    }

    [Fact]
    public async Task ANonRootAppServesHttpsOn443WithTheDriversKeyWhichItCannotRead()
    {
        using var user = UnixUser.Create();
        var (certificate, key) = TestCertificates.WritePem(TestCertificates.Create("localhost"), _directory, "driver-tls");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var driver = await DriverProcess.StartAsync(config: Config))
        {
            // A key other users could read is refused: the driver keeps keys to itself.
            string shared = Path.Combine(_directory, "shared.key");
            File.Copy(key, shared);
            File.SetUnixFileMode(shared, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var refused = await driver.RunVerbAsync($"sslcert add ipport=0.0.0.0:443 certfile={certificate} keyfile={shared}");
            Assert.True(refused.ExitCode != 0, refused.Output);
            Assert.Contains("can be read by other users (mode 0644)", refused.Output);
            Assert.Contains($"chmod 600 {shared}", refused.Output);

            Assert.Equal(0, (await driver.RunVerbAsync($"sslcert add ipport=0.0.0.0:443 certfile={certificate} keyfile={key}")).ExitCode);
            Assert.Equal(0, (await driver.RunVerbAsync($"urlacl add url=https://+:443/{user.Name}/ user={user.Name}")).ExitCode);
            Assert.Contains("ipport=0.0.0.0:443", (await driver.RunVerbAsync("show sslcert")).Output);
            // The app process, as the user, cannot read the key...
            var (file, arguments) = user.Wrap("cat", key);
            var (readExit, _) = await RunToExitAsync(file, arguments);
            Assert.NotEqual(0, readExit);
            // ...and serves https on 443 all the same, with no certificate of its own.
            await using var app = await SampleProcess.StartAsync($"--driver \"{driver.Socket}\" --urls https://+:443/{user.Name}/", user: user);
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, served, _, _) => served?.Subject == "CN=localhost" };
            using var client = new HttpClient(handler) { BaseAddress = new Uri("https://localhost/") };
            Assert.Equal("Hello, World!", await client.GetStringAsync($"{user.Name}/plaintext"));
        }
        // The binding and the reservation survive a restart of the driver.
        await using var restarted = await DriverProcess.StartAsync(config: Config);
        Assert.Contains("ipport=0.0.0.0:443", (await restarted.RunVerbAsync("show sslcert")).Output);
        Assert.Contains($"https://+:443/{user.Name}/", (await restarted.RunVerbAsync("show urlacl")).Output);
    }

    private static async Task<(int ExitCode, string Output)> RunToExitAsync(string file, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string text = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, text);
    }
}
