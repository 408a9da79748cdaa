using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

/// <summary>
/// Loaded by the runtime before Main (DOTNET_STARTUP_HOOKS; the type must be named StartupHook and have
/// no namespace). After ALLOCATION_SAMPLER_START ms it counts, for ALLOCATION_SAMPLER_SECONDS, the GC's
/// AllocationTick events (one per ~100 KB allocated, naming the type that crossed the mark) and the
/// exact bytes allocated, then writes both to ALLOCATION_SAMPLER_OUTPUT: bytes per type in proportion
/// to the samples, which over millions of requests converges on what each type costs per request.
/// </summary>
internal static class StartupHook
{
    private static TickListener? s_listener;

    public static void Initialize()
    {
        s_listener = new TickListener();
        int startMs = int.Parse(Environment.GetEnvironmentVariable("ALLOCATION_SAMPLER_START") ?? "8000");
        int seconds = int.Parse(Environment.GetEnvironmentVariable("ALLOCATION_SAMPLER_SECONDS") ?? "6");
        string output = Environment.GetEnvironmentVariable("ALLOCATION_SAMPLER_OUTPUT") ?? "allocations.txt";
        new Thread(() =>
        {
            Thread.Sleep(startMs);
            s_listener.Counting = true;
            long before = GC.GetTotalAllocatedBytes(precise: false);
            Thread.Sleep(seconds * 1000);
            s_listener.Counting = false;
            long total = GC.GetTotalAllocatedBytes(precise: false) - before;
            long sampled = s_listener.Bytes.Values.Sum();
            using var writer = new StreamWriter(output);
            writer.WriteLine($"total {total}");
            foreach (var (type, bytes) in s_listener.Bytes.OrderByDescending(pair => pair.Value))
            {
                // Scaled so the types add up to the exact total.
                writer.WriteLine($"{(sampled == 0 ? 0 : bytes * total / sampled)} {type}");
            }
        }) { IsBackground = true, Name = "allocation sampler" }.Start();
    }

    private sealed class TickListener : EventListener
    {
        public volatile bool Counting;

        public ConcurrentDictionary<string, long> Bytes { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick is Verbose
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!Counting || e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is null)
            {
                return;
            }
            int type = e.PayloadNames.IndexOf("TypeName");
            int amount = e.PayloadNames.IndexOf("AllocationAmount64");
            if (type < 0 || e.Payload?[type] is not string name)
            {
                return;
            }
            long bytes = amount >= 0 ? Convert.ToInt64(e.Payload[amount]) : 100_000;
            Bytes.AddOrUpdate(name, bytes, (_, sum) => sum + bytes);
        }
    }
}
