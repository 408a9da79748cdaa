using System.Diagnostics.Tracing;
using HttpSysLite.Trace;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

TraceOptions options;
try
{
    options = TraceOptions.Parse(args);
}
catch (ArgumentException ex)
{
    if (ex.Message.Length > 0)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        Console.Error.WriteLine();
    }
    Console.Error.WriteLine(TraceOptions.Usage);
    return ex.Message.Length > 0 ? 2 : 0;
}

if (options.InputFile is not null && !File.Exists(options.InputFile))
{
    Console.Error.WriteLine($"error: no such file: {options.InputFile}");
    return 2;
}
if (options.ProcessId is int pid && ProcessCheck.Problem(pid) is { } problem)
{
    Console.Error.WriteLine($"error: {problem}");
    return 3;
}

if (options.Format == "nettrace")
{
    return await Recorder.RecordAsync(options);
}

var output = options.OutputFile is null ? Console.Out : new StreamWriter(options.OutputFile);
using ITraceWriter writer = options.Format switch
{
    "csv" => new CsvTraceWriter(output),
    "xml" => new XmlTraceWriter(output),
    _ => new TableTraceWriter(output),
};

EventPipeSession? session = null;
EventPipeEventSource source;
if (options.ProcessId is int processId)
{
    try
    {
        session = Recorder.Start(processId, options);
    }
    catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or TimeoutException)
    {
        Console.Error.WriteLine($"error: cannot attach to process {processId}: {ex.Message}");
        return 3;
    }
    source = new EventPipeEventSource(session.EventStream);
}
else
{
    source = new EventPipeEventSource(options.InputFile!);
}

source.Dynamic.All += traceEvent =>
{
    if (traceEvent.ProviderName != "HttpSysLite" || (int)traceEvent.Level > (int)options.Level
        || ((long)traceEvent.Keywords & (long)options.Keywords) == 0)
    {
        return;
    }
    var fields = new List<KeyValuePair<string, string>>();
    for (int i = 0; i < traceEvent.PayloadNames.Length; i++)
    {
        fields.Add(new(traceEvent.PayloadNames[i], Format(traceEvent.PayloadNames[i], traceEvent.PayloadValue(i))));
    }
    string name = string.IsNullOrEmpty(traceEvent.EventName) || traceEvent.EventName.StartsWith("EventID(", StringComparison.Ordinal)
        ? traceEvent.TaskName : traceEvent.EventName;
    // The top bits of the keywords are EventSource's channel bits, not HttpSysLite's keywords.
    writer.Write(new TraceRow(traceEvent.TimeStamp, name, (int)traceEvent.ID, traceEvent.Level.ToString(), (long)traceEvent.Keywords & 0xFFFFFFFFFFFF,
        traceEvent.ProcessID, traceEvent.ThreadID, traceEvent.ActivityID, fields));
};

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
if (session is not null)
{
    // The session ends on Ctrl+C, after --duration, or when the process exits (the stream ends).
    var limit = options.Duration is { } duration ? Task.Delay(duration, stop.Token) : Task.Delay(Timeout.Infinite, stop.Token);
    _ = limit.ContinueWith(_ =>
    {
        try
        {
            session.Stop();
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or EndOfStreamException or IOException or TimeoutException)
        {
            // The process is gone: the stream ends by itself.
        }
    }, TaskScheduler.Default);
}
source.Process();
session?.Dispose();
source.Dispose();
return 0;

static string Format(string name, object? value) => value switch
{
    // Ids print as the app sees them: IHttpConnectionFeature.ConnectionId and TraceIdentifier are X16.
    ulong id when name.EndsWith("Id", StringComparison.Ordinal) => id.ToString("X16"),
    long id when name.EndsWith("Id", StringComparison.Ordinal) => ((ulong)id).ToString("X16"),
    null => string.Empty,
    _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
};
