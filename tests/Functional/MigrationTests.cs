using System.Net;
using System.Net.Sockets;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The one-word swap (docs/design.md section 3): samples/HttpSys is a program written for HttpSys, with
/// HttpSys's option types, UrlPrefix.Create and IHttpSysRequestTimingFeature. Built with UseHttpSys
/// changed to UseHttpSysLite and nothing else, against the HttpSysLite assemblies under test, it serves.
/// </summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task AProgramWrittenForHttpSysServesWithOneWordChanged()
    {
        string original = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Migration", "HttpSysProgram.cs.txt"));
        Assert.Single(original.Split(".UseHttpSys(").Skip(1));
        string swapped = original.Replace(".UseHttpSys(", ".UseHttpSysLite(", StringComparison.Ordinal);
        Assert.Equal(original.Length + "Lite".Length, swapped.Length);

        string root = Directory.CreateTempSubdirectory("httpsyslite-migration-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "Program.cs"), swapped);
            // The assemblies under test, referenced as built: nothing is rebuilt or restored from a feed.
            await File.WriteAllTextAsync(Path.Combine(root, "Migrated.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <Reference Include="{Path.Combine(AppContext.BaseDirectory, "HttpSysLite.dll")}" />
                    <Reference Include="{Path.Combine(AppContext.BaseDirectory, "HttpSysLite.Transport.dll")}" />
                  </ItemGroup>
                </Project>
                """);
            var noEnvironment = new Dictionary<string, string>();
            var (exitCode, buildOutput) = await DotnetCli.RunAsync($"build \"{root}\" -o \"{Path.Combine(root, "out")}\" -nologo -v q", root,
                noEnvironment, TimeSpan.FromMinutes(4));
            Assert.True(exitCode == 0, $"The migrated program did not build:\n{buildOutput}");

            int port = TlsClient.FreePort();
            using var process = DotnetCli.Start($"\"{Path.Combine(root, "out", "Migrated.dll")}\" --port {port}", root,
                new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "simple" }, out var output);
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!output.Any(line => line.Contains($"Now listening on: http://localhost:{port}/")))
                {
                    Assert.False(process.HasExited || DateTime.UtcNow > deadline, $"The migrated program did not start listening:\n{string.Join("\n", output)}");
                    await Task.Delay(50);
                }

                using var client = new HttpClient();
                string hello = await client.GetStringAsync($"http://localhost:{port}/");
                Assert.StartsWith($"Hello from localhost:{port}; the server took ", hello);
                Assert.DoesNotContain("unknown", hello); // the timing feature had both timestamps
                var echo = await client.PostAsync($"http://localhost:{port}/echo", new StringContent("swapped"));
                Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
                Assert.Equal("swapped", await echo.Content.ReadAsStringAsync());
            }
            finally
            {
                process.Kill(entireProcessTree: true); // only the process this test started, by its handle
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
