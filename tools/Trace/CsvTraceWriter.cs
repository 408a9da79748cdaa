namespace HttpSysLite.Trace;

/// <summary>CSV with tracerpt's leading columns; the event's own fields go in "User Data" as Name=Value pairs.</summary>
internal sealed class CsvTraceWriter : ITraceWriter
{
    private readonly TextWriter _output;

    public CsvTraceWriter(TextWriter output)
    {
        _output = output;
        _output.WriteLine("Event Name,Event ID,Level,Keywords,Clock-Time,Process ID,Thread ID,Activity ID,User Data");
    }

    public void Write(TraceRow row)
    {
        string data = string.Join("; ", row.Fields.Select(static f => $"{f.Key}={f.Value}"));
        _output.WriteLine(string.Join(",",
            Quote(row.EventName), row.EventId, row.Level, $"0x{row.Keywords:X}", row.Time.ToString("O"),
            row.ProcessId, row.ThreadId, row.ActivityId.ToString("B"), Quote(data)));
        _output.Flush();
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    public void Dispose() => _output.Flush();
}
