namespace HttpSysLite.Trace;

/// <summary>Writes rows in one of the output formats.</summary>
internal interface ITraceWriter : IDisposable
{
    void Write(TraceRow row);
}
