using System.Diagnostics;
using System.Text.RegularExpressions;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>The built sample run as its own process, as a user runs it; disposing ends it (by its own handle).</summary>
public sealed partial class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SampleProcess(Process process, int port, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        Port = port;
        Output = output;
    }

    public int Port { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote so far, standard output and error, line by line.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; }

    /// <summary>Starts the sample; with <paramref name="openFileLimit"/>, under that RLIMIT_NOFILE (prlimit, util-linux).</summary>
    /// <remarks>With <paramref name="network"/>, inside that namespace; <paramref name="environment"/> adds to (or, with null values, removes from) its environment.</remarks>
    /// <remarks>With <paramref name="readyLine"/>, ready once a line contains it (a server attached to another's queue listens on nothing of its own; Port is then 0).</remarks>
    /// <remarks>With <paramref name="user"/>, as that Unix user (setpriv, util-linux), with its groups.</remarks>
    public static async Task<SampleProcess> StartAsync(string arguments, string? aspnetcoreUrls = null, int? openFileLimit = null,
        NetworkNamespace? network = null, IReadOnlyDictionary<string, string?>? environment = null, string? readyLine = null, UnixUser? user = null)
    {
        string sampleDll = user is null ? typeof(MinimalApi.SampleApp).Assembly.Location : Path.Combine(ReadableBuild.Directory, "MinimalApi.dll");
        var (file, args) = openFileLimit is int limit
            ? ("prlimit", $"--nofile={limit}:{limit} dotnet \"{sampleDll}\" {arguments}")
            : ("dotnet", $"\"{sampleDll}\" {arguments}");
        if (user is not null)
        {
            (file, args) = user.Wrap(file, args);
        }
        if (network is not null)
        {
            (file, args) = network.Wrap(file, args);
        }
        var start = new ProcessStartInfo(file, args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Path.GetDirectoryName(sampleDll)!;
        start.Environment["ASPNETCORE_URLS"] = aspnetcoreUrls;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
            if (readyLine is not null && e.Data?.Contains(readyLine, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult(0);
            }
            var match = e.Data is null || readyLine is not null ? null : ListeningOn().Match(e.Data);
            if (match is { Success: true })
            {
                ready.TrySetResult(int.Parse(match.Groups[1].Value));
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new SampleProcess(process, await ready.Task.WaitAsync(TimeSpan.FromSeconds(60)), output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Runs the sample until it exits by itself (or kills it after <paramref name="timeout"/>); its exit code and output.</summary>
    public static async Task<(int? ExitCode, string Output)> RunToExitAsync(string arguments, TimeSpan timeout, UnixUser? user = null)
    {
        string sampleDll = user is null ? typeof(MinimalApi.SampleApp).Assembly.Location : Path.Combine(ReadableBuild.Directory, "MinimalApi.dll");
        var (file, args) = ("dotnet", $"\"{sampleDll}\" {arguments}");
        if (user is not null)
        {
            (file, args) = user.Wrap(file, args);
        }
        var start = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(sampleDll)!,
        };
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            process.WaitForExit(); // drains the redirected output
            return (process.ExitCode, string.Join("\n", output));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true); // it kept running: end it, by its own handle
            return (null, string.Join("\n", output));
        }
    }

    /// <summary>Stops the sample as a service manager would (SIGTERM: a graceful stop) and waits for it to exit.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        DriverProcess.Signal(_process.Id, 15);
        await _process.WaitForExitAsync().WaitAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        // End only the process this test started, by its own handle.
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: https?://[^\s]*:(\d+)/?")]
    private static partial Regex ListeningOn();
}
