namespace HttpSysLite.Tests.Unit.Support;

/// <summary>One response as an in-memory client read it.</summary>
internal sealed record InMemoryResponse(string StatusLine, int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public bool HasConnectionClose => Header("Connection") is { } value && value.Contains("close", StringComparison.OrdinalIgnoreCase);
}
