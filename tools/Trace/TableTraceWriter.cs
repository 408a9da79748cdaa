namespace HttpSysLite.Trace;

/// <summary>
/// The live view: one row per event, the event name in its own column and then the data fields, as
/// the HTTP.sys trace walkthrough shows them. Rows are flushed as they come.
/// </summary>
internal sealed class TableTraceWriter : ITraceWriter
{
    private readonly TextWriter _output;

    public TableTraceWriter(TextWriter output)
    {
        _output = output;
        _output.WriteLine($"{"Time",-12} {"Event",-18} Data");
        _output.WriteLine($"{new string('-', 12)} {new string('-', 18)} {new string('-', 40)}");
        _output.Flush();
    }

    public void Write(TraceRow row)
    {
        string data = string.Join(", ", row.Fields.Select(static f => $"{f.Key}: {f.Value}"));
        _output.WriteLine($"{row.Time:HH:mm:ss.fff} {row.EventName,-18} {data}");
        _output.Flush();
    }

    public void Dispose() => _output.Flush();
}
