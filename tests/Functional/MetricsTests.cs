using Microsoft.AspNetCore.Server.HttpSys;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport.Diagnostics;
using Microsoft.AspNetCore.Builder;

namespace HttpSysLite.Tests.Functional;

/// <summary>The HttpSysLite meter's instruments, read with a MeterListener after known traffic.</summary>
[Collection(nameof(TimingCollection))]
public sealed class MetricsTests : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _observed = new();

    public MetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == HttpSysLiteMeter.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value;
        }
        (instrument.IsObservable ? _observed : _measurements).Enqueue((instrument.Name, value, map));
    }

    private List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Taken(string instrument, int? port = null) =>
        _measurements.Where(m => m.Instrument == instrument && (port is null || Equals(m.Tags.GetValueOrDefault("server.port"), port))).ToList();

    private double Observe(string instrument, Func<Dictionary<string, object?>, bool>? match = null)
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
        return _observed.Where(m => m.Instrument == instrument && (match is null || match(m.Tags))).Sum(m => m.Value);
    }

    [Fact]
    public async Task EachInstrumentCountsKnownTraffic()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app =>
        {
            app.MapGet("/fast", () => "fast");
            app.MapGet("/slow", async () =>
            {
                entered.TrySetResult();
                await release.Task;
                return "slow";
            });
        }, o =>
        {
            o.RequestQueueName = "metered-queue";
            o.MaxConcurrentRequests = 1;
            o.RequestQueueLimit = 1;
            o.Http503Verbosity = Http503VerbosityLevel.Limited;
        });
        int port = server.Port;
        double connectionsBefore = Observe("httpsyslite.active_connections");

        // Four requests on one keep-alive connection: three 200s and a 404.
        await using var keepAlive = await server.ConnectAsync();
        foreach (string path in new[] { "/fast", "/fast", "/fast", "/missing" })
        {
            await keepAlive.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
            await keepAlive.ReadResponseAsync();
        }
        var durations = Taken("http.server.request.duration", port);
        Assert.Equal(4, durations.Count);
        Assert.Equal([200, 200, 200, 404], durations.Select(d => (int)d.Tags["http.response.status_code"]!));
        Assert.All(durations, d =>
        {
            Assert.Equal("GET", d.Tags["http.request.method"]);
            Assert.Equal("http", d.Tags["url.scheme"]);
            Assert.Equal("1.1", d.Tags["network.protocol.version"]);
            Assert.InRange(d.Value, 0, 10);
        });
        var active = Taken("http.server.active_requests", port);
        Assert.Equal(8, active.Count); // +1 and -1 per request
        Assert.Equal(0, active.Sum(a => a.Value));

        // A request the app holds, one waiting in the queue, one turned away.
        await using var running = await server.ConnectAsync();
        await running.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Taken("http.server.active_requests", port).Sum(a => a.Value));
        await using var waiting = await server.ConnectAsync();
        await waiting.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Observe("httpsyslite.queue.length", t => (string?)t["httpsyslite.request_queue"] == "metered-queue") != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the queue never held the waiting request");
            await Task.Delay(20);
        }
        Assert.Equal(3, Observe("httpsyslite.active_connections") - connectionsBefore);

        double rejectedBefore = Taken("httpsyslite.rejected_requests").Sum(r => r.Value);
        await using (var turnedAway = await server.ConnectAsync())
        {
            await turnedAway.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(503, (await turnedAway.ReadResponseAsync()).StatusCode);
        }
        var rejected = Taken("httpsyslite.rejected_requests");
        Assert.Equal(1, rejected.Sum(r => r.Value) - rejectedBefore);
        Assert.Equal("QueueFull", rejected.Last().Tags["httpsyslite.reason"]);

        release.TrySetResult();
        Assert.Equal(200, (await running.ReadResponseAsync()).StatusCode);
        Assert.Equal(200, (await waiting.ReadResponseAsync()).StatusCode);
        Assert.Equal(0, Observe("httpsyslite.queue.length", t => (string?)t["httpsyslite.request_queue"] == "metered-queue"));
        var all = Taken("http.server.active_requests", port);
        Assert.Equal(12, all.Count); // six requests ran in the app (the turned-away one never did)
        Assert.Equal(0, all.Sum(a => a.Value));
        Assert.Equal(6, Taken("http.server.request.duration", port).Count);
    }
}
