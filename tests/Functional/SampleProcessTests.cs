using System.Diagnostics;
using System.Text.RegularExpressions;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The sample as a user runs it: its own process, its own command line. Proves the README's
/// `dotnet run --project samples/MinimalApi` path (the built app) serves both address families from
/// one prefix, and that `--server kestrel` hosts the same endpoints.
/// </summary>
public sealed partial class SampleProcessTests
{
    [Theory]
    [InlineData("--urls http://+:0/", null, "http://127.0.0.1:{0}/plaintext", "http://[::1]:{0}/plaintext")]
    [InlineData("", "http://+:0/", "http://127.0.0.1:{0}/plaintext", "http://[::1]:{0}/plaintext")]
    [InlineData("--server kestrel --urls http://127.0.0.1:0", null, "http://127.0.0.1:{0}/plaintext", null)]
    public async Task SampleServesPlaintext(string arguments, string? aspnetcoreUrls, string first, string? second)
    {
        string sampleDll = typeof(MinimalApi.SampleApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", $"\"{sampleDll}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(sampleDll)!,
        };
        // The second case passes its address the other documented way: ASPNETCORE_URLS.
        start.Environment["ASPNETCORE_URLS"] = aspnetcoreUrls;
        using var process = Process.Start(start)!;
        try
        {
            var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                var match = e.Data is null ? null : ListeningOn().Match(e.Data);
                if (match is { Success: true })
                {
                    ready.TrySetResult(int.Parse(match.Groups[1].Value));
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            int port = await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("Hello, World!", await client.GetStringAsync(string.Format(first, port)));
            if (second is not null)
            {
                Assert.Equal("Hello, World!", await client.GetStringAsync(string.Format(second, port)));
            }
        }
        finally
        {
            // End only the process this test started, by its own handle.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [GeneratedRegex(@"Now listening on: http://[^\s]*:(\d+)/?")]
    private static partial Regex ListeningOn();
}
