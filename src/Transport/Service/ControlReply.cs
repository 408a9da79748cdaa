using System.Text.Json.Nodes;

namespace HttpSysLite.Transport.Service;

/// <summary>The driver's answer to a <see cref="ControlRequest"/> (<see cref="FrameType.ControlReply"/>, JSON).</summary>
public sealed record ControlReply
{
    /// <summary>Why the verb failed (nothing was changed), or null.</summary>
    public string? Error { get; init; }

    /// <summary>The outcome as text for a terminal: a table, or what was changed.</summary>
    public string Text { get; init; } = "";

    /// <summary>The same as data, for `--format json`.</summary>
    public JsonNode? Data { get; init; }
}
