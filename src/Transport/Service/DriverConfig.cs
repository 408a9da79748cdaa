using System.Text.Json;
using System.Text.Json.Serialization;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The driver's persisted state (`httpsyslite serve --config PATH`): what the administration verbs
/// change, kept across restarts, as HTTP.sys keeps its urlacl and sslcert stores in the registry. It is
/// written whole to a temporary file and renamed over the old one, so a crash mid-write never leaves
/// half a file; the file is the driver's alone (mode 0600).
/// </summary>
public sealed record DriverConfig
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // The file is for people too: http://+:80/ stays readable ('+' is not escaped).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The URL reservations (urlacl).</summary>
    public List<UrlReservation> UrlReservations { get; init; } = [];

    /// <summary>The certificate bindings the driver holds (sslcert).</summary>
    public List<SslCertificateEntry> SslCertificates { get; init; } = [];

    /// <summary>The IP listen list (iplisten): the only addresses the driver binds; empty binds all.</summary>
    public List<string> IpListen { get; init; } = [];

    /// <summary>
    /// Reads <paramref name="path"/>; a file that does not exist yet is an empty state (it is created at
    /// the first change).
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is not valid JSON (the message gives its line and column) or cannot be read; the file is left as it is.</exception>
    public static DriverConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new DriverConfig();
        }
        try
        {
            using var file = File.OpenRead(path);
            return JsonSerializer.Deserialize<DriverConfig>(file, s_json) ?? new DriverConfig();
        }
        catch (JsonException ex)
        {
            // JsonException counts lines and bytes from 0.
            string where = ex.LineNumber is long line ? $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "an unknown position";
            throw new InvalidOperationException(
                $"The driver's config {path} is not valid JSON at {where}: {ex.Message} Fix the file (or move it away to start empty); it was not changed.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The driver's config {path} cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the state to <paramref name="path"/> (a temporary file, then a rename).</summary>
    public void Save(string path)
    {
        string temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(file, this, s_json);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
