namespace HttpSysLite.Tests.Functional.Support;

/// <summary>One response as read off the wire.</summary>
public sealed class RawResponse
{
    public required string StatusLine { get; init; }

    public required int StatusCode { get; init; }

    public required List<KeyValuePair<string, string>> Headers { get; init; }

    public required byte[] Body { get; init; }

    public List<KeyValuePair<string, string>> Trailers { get; init; } = new();

    public bool WasChunked { get; init; }

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public bool HasConnectionClose => Header("Connection")?.Contains("close", StringComparison.OrdinalIgnoreCase) == true;
}
