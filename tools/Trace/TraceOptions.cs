using System.Diagnostics.Tracing;
using System.Globalization;

namespace HttpSysLite.Trace;

/// <summary>The command line: what to read (a live process or a .nettrace file), what to keep, where to write.</summary>
internal sealed class TraceOptions
{
    public const string Usage = """
        httpsyslite-trace: prints the HttpSysLite events of a running server, live, one table row each.

          httpsyslite-trace --pid <id> [--duration <seconds>] [--keywords <list>] [--level <level>]
                            [--format table|csv|xml] [--output <file>]
          httpsyslite-trace --input <file.nettrace> [same filters and output]

          --pid        attach to this process through EventPipe (it must host HttpSysLite)
          --input      read a trace recorded by dotnet-trace (--providers HttpSysLite) instead
          --duration   stop after this many seconds (default: until Ctrl+C)
          --keywords   request,response,connection,cache,urlgroup,requestqueue,timeout, or a hex mask
                       such as 0x1076 (default: all)
          --level      critical, error, warning, informational or verbose (default: verbose)
          --format     table (default), csv or xml, as tracerpt writes them; or nettrace: the raw
                       EventPipe stream to --output, the cheapest for the traced process, to read
                       later with --input
          --output     write to this file instead of the console
        """;

    public int? ProcessId { get; private set; }

    public string? InputFile { get; private set; }

    public TimeSpan? Duration { get; private set; }

    public EventKeywords Keywords { get; private set; } = (EventKeywords)(-1);

    public EventLevel Level { get; private set; } = EventLevel.Verbose;

    public string Format { get; private set; } = "table";

    public string? OutputFile { get; private set; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static TraceOptions Parse(string[] args)
    {
        var options = new TraceOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--pid":
                    options.ProcessId = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0
                        ? pid : throw new ArgumentException("--pid needs a positive process id.");
                    break;
                case "--input":
                    options.InputFile = Value();
                    break;
                case "--duration":
                    options.Duration = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0
                        ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException("--duration needs a positive number of seconds.");
                    break;
                case "--keywords":
                    options.Keywords = ParseKeywords(Value());
                    break;
                case "--level":
                    options.Level = Value().ToLowerInvariant() switch
                    {
                        "critical" => EventLevel.Critical,
                        "error" => EventLevel.Error,
                        "warning" => EventLevel.Warning,
                        "informational" or "info" => EventLevel.Informational,
                        "verbose" => EventLevel.Verbose,
                        var other => throw new ArgumentException($"Unknown --level '{other}': use critical, error, warning, informational or verbose."),
                    };
                    break;
                case "--format":
                    string format = Value().ToLowerInvariant();
                    options.Format = format is "table" or "csv" or "xml" or "nettrace" ? format : throw new ArgumentException("--format is table, csv, xml or nettrace.");
                    break;
                case "--output":
                    options.OutputFile = Value();
                    break;
                case "-h" or "--help" or "-?":
                    throw new ArgumentException(string.Empty);
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if ((options.ProcessId is null) == (options.InputFile is null))
        {
            throw new ArgumentException("Give either --pid <id> (a live process) or --input <file.nettrace>.");
        }
        if (options.Format == "nettrace" && (options.OutputFile is null || options.ProcessId is null))
        {
            throw new ArgumentException("--format nettrace records a live process (--pid) to a file (--output).");
        }
        return options;
    }

    private static EventKeywords ParseKeywords(string text)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long mask)
                ? (EventKeywords)mask : throw new ArgumentException($"--keywords '{text}' is not a hex mask.");
        }
        ulong keywords = 0;
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            keywords |= name.ToLowerInvariant() switch
            {
                "request" => 0x2UL,
                "response" => 0x4UL,
                "connection" => 0x10UL,
                "cache" => 0x20UL,
                "urlgroup" => 0x40UL,
                "requestqueue" => 0x100UL,
                "timeout" => 0x1000UL,
                "all" => ulong.MaxValue,
                var other => throw new ArgumentException($"Unknown keyword '{other}': use request, response, connection, cache, urlgroup, requestqueue, timeout."),
            };
        }
        return (EventKeywords)(long)keywords;
    }
}
