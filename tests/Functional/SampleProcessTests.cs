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
}
