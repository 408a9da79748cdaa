namespace HttpSysLite.Trace;

/// <summary>One event as the writers print it: its name, then its data fields in payload order.</summary>
internal sealed record TraceRow(
    DateTime Time,
    string EventName,
    int EventId,
    string Level,
    long Keywords,
    int ProcessId,
    int ThreadId,
    Guid ActivityId,
    IReadOnlyList<KeyValuePair<string, string>> Fields);
