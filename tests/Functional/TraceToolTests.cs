using System.Diagnostics;
using System.Text;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>tools/Trace against the sample running as its own process: live rows over EventPipe, and clear errors.</summary>
[Collection(nameof(TimingCollection))]
public sealed class TraceToolTests
{
    private static string ToolDll => Path.Combine(AppContext.BaseDirectory, "HttpSysLite.Trace.dll");

    [Fact]
    public async Task TheToolPrintsARowPerEventOfALiveProcess()
    {
        await using var sample = await SampleProcess.StartAsync("--urls http://+:0/");
        var output = new StringBuilder();
        using var tool = StartTool($"--pid {sample.Id} --duration 10", output);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{sample.Port}/"), Timeout = TimeSpan.FromSeconds(30) };

        // The session starts a moment after the tool does: ask until the first request shows up.
        var deadline = DateTime.UtcNow.AddSeconds(8);
        while (!Text(output).Contains("Url: /plaintext", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "no Parse row for /plaintext:\n" + Text(output));
            Assert.Equal("Hello, World!", await client.GetStringAsync("/plaintext"));
            await Task.Delay(200);
        }
        await client.GetStringAsync("/cached");
        await client.GetStringAsync("/cached");
        await using (var bad = await RawConnection.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, sample.Port)))
        {
            await bad.SendAsync("GET /plaintext HTTP/1.1\r\n\r\n");
            Assert.Equal(400, (await bad.ReadResponseAsync()).StatusCode);
        }

        await tool.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, tool.ExitCode);
        string text = Text(output);
        var rows = text.Split('\n').Select(static l => l.TrimEnd('\r')).ToList();
        Assert.StartsWith("Time", rows[0]);
        foreach (string expected in new[]
        {
            "ConnConnect ", "ConnIdAssgn ", "RecvReq ", "Parse ", "Deliver ", "FastResp ", "FastSend ", "SendComplete ",
            "SrvdFrmCache ", "AddedCacheEntry ", "ParseRequestFailed ", "ConnClose ", "ConnCleanup ",
        })
        {
            Assert.Contains(rows, r => r.Length > 13 && r[13..].StartsWith(expected, StringComparison.Ordinal));
        }
        Assert.Contains(rows, r => r.Contains("Parse ", StringComparison.Ordinal) && r.Contains("HttpVerb: GET, Url: /plaintext", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("FastResp ", StringComparison.Ordinal) && r.Contains("StatusCode: 200", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("FastSend ", StringComparison.Ordinal) && r.Contains("HttpStatus: 200", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("SrvdFrmCache ", StringComparison.Ordinal) && r.Contains("Url: /cached", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("ParseRequestFailed ", StringComparison.Ordinal) && r.Contains("Reason: InvalidHost, StatusCode: 400", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWrongPidIsAClearError()
    {
        var output = new StringBuilder();
        using var tool = StartTool("--pid 2147483000", output);
        await tool.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, tool.ExitCode);
        Assert.Contains("No process has id 2147483000", Text(output));
    }

    [Fact]
    public async Task AProcessThatIsNotHttpSysLiteIsAClearError()
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "60") { RedirectStandardOutput = true })!;
        try
        {
            var output = new StringBuilder();
            using var tool = StartTool($"--pid {other.Id}", output);
            await tool.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3, tool.ExitCode);
            Assert.Contains("does not host HttpSysLite", Text(output));
        }
        finally
        {
            other.Kill();
        }
    }

    [Fact]
    public async Task BadArgumentsPrintTheUsage()
    {
        var output = new StringBuilder();
        using var tool = StartTool("--level loud --pid 1", output);
        await tool.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, tool.ExitCode);
        Assert.Contains("Unknown --level 'loud'", Text(output));
        Assert.Contains("httpsyslite-trace --pid <id>", Text(output));
    }

    private static Process StartTool(string arguments, StringBuilder output)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{ToolDll}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.Append(line).Append('\n');
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
