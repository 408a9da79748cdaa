using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HttpSysLite.Tests.Unit.Server;

/// <summary>The response cache belongs to the driver: the first server's limits apply, a differing second server is logged.</summary>
public sealed class CacheSettingsTests
{
    [Fact]
    public async Task ASecondServerAskingForOtherCacheLimitsIsLoggedAndChangesNothing()
    {
        var driver = new HttpDriver(new InMemoryTransportFactory());
        var logs = new RecordingLoggerFactory();
        var first = Start(driver, logs, "http://+:0/a/", o => o.ResponseCache.MaxBytes = 5000);
        await first.StartAsync(new NoApplication(), CancellationToken.None);
        Assert.Equal(5000, driver.Cache.MaxBytes);

        var second = Start(driver, logs, "http://+:0/b/", o => o.ResponseCache.MaxBytes = 9000);
        await second.StartAsync(new NoApplication(), CancellationToken.None);
        Assert.Equal(5000, driver.Cache.MaxBytes);
        Assert.Contains(logs.Events, e => e == "CacheSettingsDiffer");

        // Once every server holding the limits stopped, the next server's apply.
        await first.StopAsync(CancellationToken.None);
        var third = Start(driver, logs, "http://+:0/c/", o => o.ResponseCache.MaxBytes = 7000);
        await third.StartAsync(new NoApplication(), CancellationToken.None);
        Assert.Equal(7000, driver.Cache.MaxBytes);
        await second.StopAsync(CancellationToken.None);
        await third.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ASecondServerWithTheSameLimitsIsNotLogged()
    {
        var driver = new HttpDriver(new InMemoryTransportFactory());
        var logs = new RecordingLoggerFactory();
        var first = Start(driver, logs, "http://+:0/a/", _ => { });
        var second = Start(driver, logs, "http://+:0/b/", _ => { });
        await first.StartAsync(new NoApplication(), CancellationToken.None);
        await second.StartAsync(new NoApplication(), CancellationToken.None);
        Assert.DoesNotContain(logs.Events, e => e == "CacheSettingsDiffer");
        await first.StopAsync(CancellationToken.None);
        await second.StopAsync(CancellationToken.None);
    }

    private static HttpSysLiteServer Start(HttpDriver driver, ILoggerFactory logs, string prefix, Action<HttpSysLiteOptions> configure)
    {
        var options = new HttpSysLiteOptions();
        options.UrlPrefixes.Add(prefix);
        configure(options);
        return new HttpSysLiteServer(Options.Create(options), logs, driver);
    }

    private sealed class NoApplication : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => Task.CompletedTask;

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }

    private sealed class RecordingLoggerFactory : ILoggerFactory, ILogger
    {
        public List<string> Events { get; } = new();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Events)
            {
                Events.Add(eventId.Name ?? string.Empty);
            }
        }
    }
}
