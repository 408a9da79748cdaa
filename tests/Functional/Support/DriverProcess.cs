using System.Collections.Concurrent;
using System.Diagnostics;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// `httpsyslite serve` (tools/Driver, built beside the tests) run as its own process on a socket in a
/// directory of its own; disposing stops it with SIGTERM, then ends it by its own handle if it lingers.
/// </summary>
public sealed class DriverProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private DriverProcess(Process process, string directory, string socket, ConcurrentQueue<string> output)
    {
        _process = process;
        _directory = directory;
        Socket = socket;
        Output = output;
    }

    /// <summary>The socket apps attach to.</summary>
    public string Socket { get; }

    /// <summary>The driver's process id.</summary>
    public int Id => _process.Id;

    /// <summary>What the driver logged so far.</summary>
    public ConcurrentQueue<string> Output { get; }

    /// <summary>Starts a driver and waits until it listens.</summary>
    /// <remarks>With <paramref name="config"/>, the driver keeps its reservations in that file (--config).</remarks>
    public static async Task<DriverProcess> StartAsync(string? socket = null, string? config = null)
    {
        string directory = Directory.CreateTempSubdirectory("httpsyslite-driver-").FullName;
        // Other users' apps must reach the socket (its own mode lets them connect), as under /run/httpsyslite.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        socket ??= Path.Combine(directory, "driver.sock");
        string dll = Path.Combine(AppContext.BaseDirectory, "HttpSysLite.Driver.dll");
        string arguments = $"\"{dll}\" serve --socket \"{socket}\"" + (config is null ? "" : $" --config \"{config}\"");
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        var process = Process.Start(start)!;
        var output = new ConcurrentQueue<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }
            output.Enqueue(e.Data);
            if (e.Data.Contains("is listening for app processes", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var driver = new DriverProcess(process, directory, socket, output);
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return driver;
        }
        catch
        {
            await driver.DisposeAsync();
            throw new InvalidOperationException("The driver did not start: " + string.Join("\n", output));
        }
    }

    /// <summary>
    /// Runs `httpsyslite VERB ARGS --socket ...` against this driver, as <paramref name="user"/> when given
    /// (else as the test, root); its exit code and output.
    /// </summary>
    public async Task<(int ExitCode, string Output)> RunVerbAsync(string verbAndArguments, UnixUser? user = null) =>
        await RunToolAsync($"{verbAndArguments} --socket \"{Socket}\"", user);

    /// <summary>
    /// Makes a certificate for <paramref name="subject"/> (its key 0600, in the driver's own directory) and
    /// binds it to 0.0.0.0:<paramref name="port"/> with `httpsyslite sslcert add`.
    /// </summary>
    public async Task BindTestCertificateAsync(int port, string subject = "localhost")
    {
        var (certificate, key) = Unit.Support.TestCertificates.WritePem(Unit.Support.TestCertificates.Create(subject), _directory, $"{subject}-{port}");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var (code, output) = await RunVerbAsync($"sslcert add ipport=0.0.0.0:{port} certfile={certificate} keyfile={key}");
        if (code != 0)
        {
            throw new InvalidOperationException($"sslcert add failed ({code}): {output}");
        }
    }

    /// <summary>Runs `httpsyslite ARGS` (tools/Driver) to its exit, as <paramref name="user"/> when given.</summary>
    public static async Task<(int ExitCode, string Output)> RunToolAsync(string arguments, UnixUser? user = null)
    {
        string dll = Path.Combine(user is null ? AppContext.BaseDirectory : ReadableBuild.Directory, "HttpSysLite.Driver.dll");
        var (file, args) = ("dotnet", $"\"{dll}\" {arguments}");
        if (user is not null)
        {
            (file, args) = user.Wrap(file, args);
        }
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Stops the driver as systemd would (SIGTERM) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            Signal(_process.Id, 15);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true); // it did not stop: end it, by its own handle
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to a process this test started.</summary>
    public static void Signal(int pid, int signal) => Kill(pid, signal);
}
