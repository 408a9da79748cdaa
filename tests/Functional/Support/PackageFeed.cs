using System.Reflection;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// The HttpSysLite package packed from this checkout into a folder feed in a temporary directory, as a
/// release would pack it, once per test class. Beside the feed: an empty NuGet packages folder, so what a
/// consumer restores comes from this feed and never from a cached HttpSysLite of an earlier run. Disposing
/// deletes the directory.
/// </summary>
public sealed class PackageFeed : IAsyncLifetime
{
    /// <summary>Pack builds two projects in Release on a 2-core machine that runs other tests: minutes at most.</summary>
    public static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The temporary directory that holds everything below.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "httpsyslite-package-" + Guid.NewGuid().ToString("N"));

    /// <summary>The folder feed the packages are written to.</summary>
    public string Feed => Path.Combine(Root, "feed");

    /// <summary>An isolated NUGET_PACKAGES folder, empty before the first restore.</summary>
    public string Packages => Path.Combine(Root, "packages");

    /// <summary>The checkout's root (the folder with Server.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The version the checkout declares (Directory.Build.props), as the test's own HttpSysLite.dll carries it.</summary>
    public static string Version { get; } = typeof(HttpSysLiteOptions).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    /// <summary>The package file, once packed.</summary>
    public string PackagePath => Path.Combine(Feed, $"HttpSysLite.{Version}.nupkg");

    /// <summary>The symbols package file, once packed.</summary>
    public string SymbolsPackagePath => Path.Combine(Feed, $"HttpSysLite.{Version}.snupkg");

    /// <summary>The exit code of <c>dotnet pack</c> (null: it timed out) and its output.</summary>
    public (int? ExitCode, string Output) PackResult { get; private set; }

    /// <summary>The variables every dotnet command of these tests runs with.</summary>
    public IReadOnlyDictionary<string, string> CommandEnvironment => new Dictionary<string, string> { ["NUGET_PACKAGES"] = Packages };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Packages);
        // MSBuild looks for Directory.Build.props/.targets up from a project; these stop the search here, so
        // a consumer written below builds as it would in a folder of its own, whatever lies above the temp folder.
        File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
        // --artifacts-path: the Release build and its restore write below Root, never into the checkout's
        // obj/ folders, which the test run's own Debug build owns.
        string project = Path.Combine(RepositoryRoot, "src", "Server", "Server.csproj");
        PackResult = await DotnetCli.RunAsync(
            $"pack \"{project}\" -c Release -o \"{Feed}\" --artifacts-path \"{Path.Combine(Root, "artifacts")}\" --disable-build-servers",
            RepositoryRoot, CommandEnvironment, PackTimeout);
    }

    /// <summary>Fails the test, with pack's output, unless the package was produced.</summary>
    public void AssertPacked()
    {
        Assert.True(PackResult.ExitCode == 0 && File.Exists(PackagePath),
            $"dotnet pack exited {PackResult.ExitCode?.ToString() ?? "by timeout"}; no {Path.GetFileName(PackagePath)}:\n{PackResult.Output}");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Server.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No Server.sln above {AppContext.BaseDirectory}: the tests run from a checkout.");
    }
}
