using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The sample as a user runs it: its own process, its own command line. Proves the README's
/// `dotnet run --project samples/MinimalApi` path (the built app) serves both address families from
/// one prefix, and that `--server kestrel` hosts the same endpoints.
/// </summary>
public sealed class SampleProcessTests
{
    [Theory]
    [InlineData("--urls http://+:0/", null, "http://127.0.0.1:{0}/plaintext", "http://[::1]:{0}/plaintext")]
    [InlineData("", "http://+:0/", "http://127.0.0.1:{0}/plaintext", "http://[::1]:{0}/plaintext")]
    [InlineData("--server kestrel --urls http://127.0.0.1:0", null, "http://127.0.0.1:{0}/plaintext", null)]
    public async Task SampleServesPlaintext(string arguments, string? aspnetcoreUrls, string first, string? second)
    {
        // The second case passes its address the other documented way: ASPNETCORE_URLS.
        await using var sample = await SampleProcess.StartAsync(arguments, aspnetcoreUrls);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("Hello, World!", await client.GetStringAsync(string.Format(first, sample.Port)));
        if (second is not null)
        {
            Assert.Equal("Hello, World!", await client.GetStringAsync(string.Format(second, sample.Port)));
        }
    }

    /// <summary>
    /// A second process on a port already served fails to start, as with Kestrel or HTTP.sys, rather
    /// than sharing the port and taking some of its connections (SO_REUSEPORT).
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("--server kestrel ")]
    public async Task ASecondProcessOnTheSamePortFailsToStart(string server)
    {
        await using var first = await SampleProcess.StartAsync("--urls http://+:0/");
        var (exitCode, output) = await SampleProcess.RunToExitAsync($"{server}--urls http://127.0.0.1:{first.Port}/", TimeSpan.FromSeconds(60));
        Assert.True(exitCode is not null, "the second process kept running on a port that was taken:\n" + output);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("address already in use", output, StringComparison.OrdinalIgnoreCase);
    }
}
