using Microsoft.Diagnostics.NETCore.Client;

namespace HttpSysLite.Trace;

/// <summary>The EventPipe session on a live process, and the raw recording of it (--format nettrace).</summary>
internal static class Recorder
{
    /// <summary>
    /// Starts a session for the HttpSysLite provider at the options' level and keywords: no rundown (no
    /// method names are needed) and no stack per event (a stack walk would cost the server more than the event).
    /// </summary>
    public static EventPipeSession Start(int processId, TraceOptions options)
    {
        var provider = new EventPipeProvider("HttpSysLite", options.Level, (long)options.Keywords);
        var configuration = new EventPipeSessionConfiguration([provider], circularBufferSizeMB: 64, requestRundown: false, requestStackwalk: false);
        return new DiagnosticsClient(processId).StartEventPipeSession(configuration);
    }

    /// <summary>Copies the session's stream to the output file untouched until --duration, Ctrl+C, or the process exits.</summary>
    public static async Task<int> RecordAsync(TraceOptions options)
    {
        EventPipeSession session;
        try
        {
            session = Start(options.ProcessId!.Value, options);
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or TimeoutException)
        {
            Console.Error.WriteLine($"error: cannot attach to process {options.ProcessId}: {ex.Message}");
            return 3;
        }
        using (session)
        {
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            await using var file = File.Create(options.OutputFile!);
            var copy = session.EventStream.CopyToAsync(file);
            var limit = options.Duration is { } duration ? Task.Delay(duration, stop.Token) : Task.Delay(Timeout.Infinite, stop.Token);
            await Task.WhenAny(copy, limit.ContinueWith(static _ => { }, TaskScheduler.Default)).ConfigureAwait(false);
            try
            {
                session.Stop();
            }
            catch (Exception ex) when (ex is ServerNotAvailableException or EndOfStreamException or IOException or TimeoutException)
            {
                // The process is gone: the stream has ended by itself.
            }
            await copy.ConfigureAwait(false);
        }
        return 0;
    }
}
