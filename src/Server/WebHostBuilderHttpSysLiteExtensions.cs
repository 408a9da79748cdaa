using System.Runtime.CompilerServices;
using HttpSysLite;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.HttpSys;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Selects HttpSysLite as the web host's server: the one-word swap for UseHttpSys() or UseKestrel().</summary>
public static class WebHostBuilderHttpSysLiteExtensions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string ConfigurationSection = "HttpSysLite";

    /// <summary>Uses HttpSysLite with options from the "HttpSysLite" configuration section.</summary>
    public static IWebHostBuilder UseHttpSysLite(this IWebHostBuilder hostBuilder) =>
        hostBuilder.UseHttpSysLite(static (HttpSysLiteOptions _) => { });

    /// <summary>
    /// Uses HttpSysLite, binding the "HttpSysLite" configuration section and then applying
    /// <paramref name="configure"/>. The options are HttpSys's <see cref="HttpSysOptions"/> and HttpSysLite's
    /// additions, so a lambda written for <c>UseHttpSys(options => ...)</c> compiles here unchanged.
    /// </summary>
    public static IWebHostBuilder UseHttpSysLite(this IWebHostBuilder hostBuilder, Action<HttpSysLiteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configure);
        return hostBuilder.ConfigureServices((context, services) =>
        {
            services.AddSingleton<IServer, HttpSysLiteServer>();
            var section = context.Configuration.GetSection(ConfigurationSection);
            services.AddOptions<HttpSysLiteOptions>()
                .Configure(options => Bind(section, options))
                .Configure(configure);
        });
    }

    /// <summary>
    /// Uses HttpSysLite with a callback typed for HttpSys's own options (a method or an explicitly typed
    /// lambda written for <c>UseHttpSys</c>). An untyped lambda picks the overload above.
    /// </summary>
    [OverloadResolutionPriority(-1)]
    public static IWebHostBuilder UseHttpSysLite(this IWebHostBuilder hostBuilder, Action<HttpSysOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return hostBuilder.UseHttpSysLite((HttpSysLiteOptions options) => configure(options));
    }

    /// <summary>
    /// The binder fills every settable option (Timeouts and Authentication included) but skips UrlPrefixes,
    /// which holds HttpSys's UrlPrefix objects: the section's strings are added here, each through
    /// UrlPrefixCollection.Add(string), as HttpSys parses them.
    /// </summary>
    private static void Bind(IConfigurationSection section, HttpSysLiteOptions options)
    {
        section.Bind(options);
        foreach (var item in section.GetSection(nameof(HttpSysOptions.UrlPrefixes)).GetChildren())
        {
            if (string.IsNullOrWhiteSpace(item.Value))
            {
                continue;
            }
            try
            {
                options.UrlPrefixes.Add(item.Value);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"Configuration '{item.Path}' holds an invalid URL prefix '{item.Value}': {ex.Message}", ex);
            }
        }
    }
}
