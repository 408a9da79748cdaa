using System.Text.Json.Serialization;

namespace MinimalApi;

/// <summary>Source-generated JSON for the sample's payloads: the same serializer cost on both servers.</summary>
[JsonSerializable(typeof(JsonMessage))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SampleJsonContext : JsonSerializerContext
{
}
