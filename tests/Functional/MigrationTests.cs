using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

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
            var (exitCode, buildOutput) = await RunAsync("dotnet", $"build \"{root}\" -o \"{Path.Combine(root, "out")}\" -nologo -v q", root, TimeSpan.FromMinutes(4));
            Assert.True(exitCode == 0, $"The migrated program did not build:\n{buildOutput}");

            int port = FreePort();
            var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(root, "out", "Migrated.dll")}\" --port {port}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = root,
            };
            start.Environment["ASPNETCORE_URLS"] = null;
            start.Environment["Logging__Console__FormatterName"] = "simple";
            using var process = Process.Start(start)!;
            var output = new StringBuilder();
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            DataReceivedEventHandler collect = (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
                if (e.Data?.Contains($"Now listening on: http://localhost:{port}/") == true)
                {
                    listening.TrySetResult();
                }
            };
            process.OutputDataReceived += collect;
            process.ErrorDataReceived += collect;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await Task.WhenAny(listening.Task, process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(listening.Task.IsCompleted, $"The migrated program did not start listening:\n{output}");

                using var client = new HttpClient();
                string hello = await client.GetStringAsync($"http://localhost:{port}/");
                Assert.StartsWith($"Hello from localhost:{port}; the server took ", hello);
                Assert.DoesNotContain("unknown", hello); // the timing feature had both timestamps
                var echo = await client.PostAsync($"http://localhost:{port}/echo", new StringContent("swapped"));
                Assert.Equal("swapped", await echo.Content.ReadAsStringAsync());
                // Http503Verbosity and the rest were taken: the server's options are HttpSys's.
                Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
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

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task<(int? ExitCode, string Output)> RunAsync(string file, string arguments, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            return (null, await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
