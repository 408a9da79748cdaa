namespace MinimalApi;

/// <summary>The /json payload (TechEmpower's shape).</summary>
public sealed record JsonMessage(string message);
