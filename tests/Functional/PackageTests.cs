using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using HttpSysLite.Tests.Functional.Support;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The HttpSysLite package as a user meets it: packed from this checkout into a folder feed, restored by a
/// new app that knows nothing of the repository (its own folder, its own NuGet packages folder), run, and
/// asked for a page. A package that names a dependency no feed has fails here with the NU1101 the user
/// would see. Builds load the machine, so the class runs alone.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed partial class PackageTests : IClassFixture<PackageFeed>
{
    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly PackageFeed _feed;

    public PackageTests(PackageFeed feed) => _feed = feed;

    [Fact]
    public void ThePackageHoldsTheDriverItsReadmeAndLicense()
    {
        _feed.AssertPacked();
        using var package = ZipFile.OpenRead(_feed.PackagePath);
        var entries = package.Entries.Select(static e => e.FullName).ToHashSet();
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);
        // One package: the driver ships beside the server, with both assemblies' API docs.
        Assert.Contains("lib/net10.0/HttpSysLite.dll", entries);
        Assert.Contains("lib/net10.0/HttpSysLite.Transport.dll", entries);
        Assert.Contains("lib/net10.0/HttpSysLite.xml", entries);
        Assert.Contains("lib/net10.0/HttpSysLite.Transport.xml", entries);
        Assert.DoesNotContain(entries, static e => e.EndsWith(".pdb", StringComparison.Ordinal));

        string license = Read(package, "LICENSE");
        Assert.StartsWith("MIT License", license);
        Assert.Contains("Copyright (c) 2026 The HttpSysLite authors", license);
        Assert.Contains("UseHttpSysLite", Read(package, "README.md"));

        var nuspec = XDocument.Parse(Read(package, "HttpSysLite.nuspec")).Root!;
        XNamespace ns = nuspec.Name.Namespace;
        var metadata = nuspec.Element(ns + "metadata")!;
        Assert.Equal("HttpSysLite", metadata.Element(ns + "id")!.Value);
        Assert.Equal(PackageFeed.Version, metadata.Element(ns + "version")!.Value);
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.StartsWith("https://", metadata.Element(ns + "repository")!.Attribute("url")!.Value);
        Assert.NotEqual("Package Description", metadata.Element(ns + "description")!.Value); // the SDK's placeholder
        Assert.Contains("aspnetcore", metadata.Element(ns + "tags")!.Value.Split(' '));

        // A dependency on one of our own packages must be a package this checkout produced; anything else
        // comes from the usual feeds, which the consumer's restore below proves.
        var produced = Directory.GetFiles(_feed.Feed, "*.nupkg").Select(static p => Path.GetFileName(p)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var dependency in metadata.Descendants(ns + "dependency"))
        {
            string id = dependency.Attribute("id")!.Value;
            if (id.StartsWith("HttpSysLite", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Contains($"{id}.{dependency.Attribute("version")!.Value}.nupkg", produced);
            }
        }
    }

    [Fact]
    public void TheSymbolsPackageHoldsBothAssembliesPdbs()
    {
        _feed.AssertPacked();
        Assert.True(File.Exists(_feed.SymbolsPackagePath), $"no {Path.GetFileName(_feed.SymbolsPackagePath)} beside the package");
        using var symbols = ZipFile.OpenRead(_feed.SymbolsPackagePath);
        var entries = symbols.Entries.Select(static e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/HttpSysLite.pdb", entries);
        Assert.Contains("lib/net10.0/HttpSysLite.Transport.pdb", entries);
    }

    [Fact]
    public async Task AnAppRestoresThePackageFromAFolderFeedAndServesARequest()
    {
        _feed.AssertPacked();
        string app = WriteConsumer();

        var restore = await DotnetCli.RunAsync($"restore --configfile \"{Path.Combine(app, "nuget.config")}\" --disable-build-servers",
            app, _feed.CommandEnvironment, RestoreTimeout);
        Assert.True(restore.ExitCode == 0, "restore failed:\n" + restore.Output);
        // Restored into the isolated folder, from the feed just packed, not from a cache of an earlier run.
        Assert.True(File.Exists(Path.Combine(_feed.Packages, "httpsyslite", PackageFeed.Version.ToLowerInvariant(), "lib", "net10.0", "HttpSysLite.Transport.dll")),
            "HttpSysLite was not restored into the isolated packages folder:\n" + restore.Output);

        var build = await DotnetCli.RunAsync("build --no-restore -c Release --disable-build-servers", app, _feed.CommandEnvironment, BuildTimeout);
        Assert.True(build.ExitCode == 0, "build failed:\n" + build.Output);

        string dll = Path.Combine(app, "bin", "Release", "net10.0", "Consumer.dll");
        using var process = DotnetCli.Start($"\"{dll}\"", app, _feed.CommandEnvironment, out var output);
        try
        {
            int port = await WaitForPortAsync(process, output);
            await using var connection = await RawConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await connection.SendAsync("GET /from-package HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            var response = await connection.ReadResponseAsync();
            Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
            Assert.Equal("HttpSysLite", response.Header("Server"));
            Assert.Equal("Served by the HttpSysLite package", response.BodyText);
        }
        finally
        {
            // End only the process this test started, by its own handle.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task OnlyTheServerProjectIsPackable()
    {
        // A `dotnet pack` of the whole checkout must produce the one package and no test, sample, bench or
        // tool package; the driver ships inside it.
        var packable = new List<string>();
        foreach (string project in Directory.EnumerateFiles(PackageFeed.RepositoryRoot, "*.csproj", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(PackageFeed.RepositoryRoot, project).Replace('\\', '/');
            if (relative.Split('/').Any(static part => part is "bin" or "obj" or "TestResults" || part.StartsWith('.')))
            {
                continue;
            }
            var evaluation = await DotnetCli.RunAsync($"msbuild \"{project}\" -getProperty:IsPackable", PackageFeed.RepositoryRoot,
                _feed.CommandEnvironment, TimeSpan.FromMinutes(1));
            Assert.True(evaluation.ExitCode == 0, $"evaluating {relative} failed:\n{evaluation.Output}");
            if (evaluation.Output.Trim().Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                packable.Add(relative);
            }
        }
        Assert.Equal(["src/Server/Server.csproj"], packable);
    }

    /// <summary>
    /// Writes a new app into the feed's temporary folder: a project that references the package at the
    /// checkout's version, a nuget.config with the folder feed and the repository's usual sources, and a
    /// Program.cs that puts the app on HttpSysLite. Returns its folder.
    /// </summary>
    private string WriteConsumer()
    {
        string app = Path.Combine(_feed.Root, "app");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <!-- Not what this test checks, and it would ask nuget.org for advisories on every run. -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="HttpSysLite" Version="[{PackageFeed.Version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            var builder = WebApplication.CreateBuilder(args);
            builder.WebHost.UseHttpSysLite(options => options.UrlPrefixes.Add("http://127.0.0.1:0/"));
            var app = builder.Build();
            app.MapGet("/from-package", () => "Served by the HttpSysLite package");
            app.Run();
            """);
        File.WriteAllText(Path.Combine(app, "nuget.config"), ConsumerNuGetConfig().ToString());
        return app;
    }

    /// <summary>
    /// The folder feed first, then the repository's own sources (nuget.config at its root). Source mapping
    /// sends HttpSysLite to the folder feed alone, so no other feed's package of that name can stand in.
    /// </summary>
    private XDocument ConsumerNuGetConfig()
    {
        var repositorySources = XDocument.Load(Path.Combine(PackageFeed.RepositoryRoot, "nuget.config"))
            .Root!.Element("packageSources")!.Elements("add").ToList();
        Assert.NotEmpty(repositorySources);
        var sources = new XElement("packageSources", new XElement("clear"), new XElement("add", new XAttribute("key", "httpsyslite-feed"), new XAttribute("value", _feed.Feed)));
        var mapping = new XElement("packageSourceMapping",
            new XElement("packageSource", new XAttribute("key", "httpsyslite-feed"),
                new XElement("package", new XAttribute("pattern", "HttpSysLite")),
                new XElement("package", new XAttribute("pattern", "HttpSysLite.*"))));
        foreach (var source in repositorySources)
        {
            sources.Add(new XElement(source));
            mapping.Add(new XElement("packageSource", new XAttribute("key", source.Attribute("key")!.Value),
                new XElement("package", new XAttribute("pattern", "*"))));
        }
        return new XDocument(new XElement("configuration", sources, mapping));
    }

    private static async Task<int> WaitForPortAsync(System.Diagnostics.Process process, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            foreach (string line in output)
            {
                var match = ListeningOn().Match(line);
                if (match.Success)
                {
                    return int.Parse(match.Groups[1].Value);
                }
            }
            Assert.False(process.HasExited, "the app exited before it listened:\n" + string.Join("\n", output));
            Assert.True(DateTime.UtcNow < deadline, $"the app did not listen within {StartTimeout}:\n" + string.Join("\n", output));
            await Task.Delay(50);
        }
    }

    private static string Read(ZipArchive package, string entry)
    {
        using var reader = new StreamReader(package.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex ListeningOn();
}
