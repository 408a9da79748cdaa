using HttpSysLite;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Selects HttpSysLite as the web host's server: the one-line swap for UseKestrel() or UseHttpSys().</summary>
public static class WebHostBuilderHttpSysLiteExtensions
{
    /// <summary>Uses HttpSysLite with options from the "HttpSysLite" configuration section.</summary>
    public static IWebHostBuilder UseHttpSysLite(this IWebHostBuilder hostBuilder) =>
        hostBuilder.UseHttpSysLite(static _ => { });

    /// <summary>Uses HttpSysLite, binding the "HttpSysLite" configuration section and then applying <paramref name="configure"/>.</summary>
    public static IWebHostBuilder UseHttpSysLite(this IWebHostBuilder hostBuilder, Action<HttpSysLiteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configure);
        return hostBuilder.ConfigureServices((context, services) =>
        {
            services.AddSingleton<IServer, HttpSysLiteServer>();
            services.AddOptions<HttpSysLiteOptions>()
                .Bind(context.Configuration.GetSection("HttpSysLite"))
                .Configure(configure);
        });
    }
}
