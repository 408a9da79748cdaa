using System.Collections;
using System.Diagnostics;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// Runs the dotnet CLI as a child process, as a user at a terminal would, bounded in time. The child gets
/// this process's environment less what the test host leaks into it (MSBuild's own variables, which would
/// pin it to the build that started the tests, and URL settings, which would move the app's addresses),
/// plus the variables the caller gives (an isolated NUGET_PACKAGES, for one).
/// </summary>
public static class DotnetCli
{
    /// <summary>Runs <c>dotnet <paramref name="arguments"/></c> to its end; its exit code (null: killed at <paramref name="timeout"/>) and output.</summary>
    public static async Task<(int? ExitCode, string Output)> RunAsync(string arguments, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        using var process = Start(arguments, workingDirectory, environment, out var output);
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            process.WaitForExit(); // drains the redirected output
            return (process.ExitCode, string.Join("\n", output));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true); // it kept running: end it, by its own handle
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return (null, string.Join("\n", output) + $"\n(killed after {timeout})");
        }
    }

    /// <summary>Starts <c>dotnet <paramref name="arguments"/></c>; the caller owns the process and ends it by its handle.</summary>
    public static Process Start(string arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        out System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // nothing to read: a prompt gets end of input, never a hang
        };
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            string name = (string)variable.Key;
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                || name is "ASPNETCORE_URLS" or "DOTNET_URLS" or "ASPNETCORE_HTTP_PORTS" or "DOTNET_HTTP_PORTS")
            {
                start.Environment.Remove(name);
            }
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = lines;
        return process;
    }
}
