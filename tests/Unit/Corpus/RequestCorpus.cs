using System.Globalization;
using System.Text;

namespace HttpSysLite.Tests.Corpus;

/// <summary>
/// The request-case corpus (request-corpus.txt): raw request bytes and what a server must make of them,
/// written from RFC 9110 and 9112. The same cases run in the unit tests (parser, validation and body
/// framing, no sockets) and in the functional tests (real sockets, HttpSysLite and Kestrel).
/// </summary>
/// <remarks>
/// File format, one case per block:
/// <code>
/// == group/name
/// GET / HTTP/1.1\r\nHost: h\r\n\r\n        (request bytes; file line breaks are not part of them)
/// => GET /                                 (one outcome per line, in order)
/// </code>
/// An outcome is a status code alone (the server answers it and closes), "incomplete" (the server waits
/// for more), or the description of a request delivered to the app: "METHOD path?query", then
/// " body=..." when it has a body, then " x-name=value" for each X- header, sorted by name, then
/// " trailer:name=value" for each trailer field the app found once it had read the body, sorted by name
/// (every name: a trailer is never merged into the headers, RFC 9110 section 6.5.2). Escapes:
/// \r \n \t \0 \\ \xHH, and {c*N} for N copies of the character c. In descriptions, bytes outside
/// '!'..'~' and the backslash are written \xHH. The "@limits" line sets the limits both servers run with.
/// </remarks>
public sealed class RequestCorpus
{
    public const string FileName = "request-corpus.txt";

    private RequestCorpus(IReadOnlyDictionary<string, long> limits, IReadOnlyList<RequestCase> cases)
    {
        Limits = limits;
        Cases = cases;
    }

    /// <summary>The "@limits" settings: MaxRequestBytes, MaxFieldLength, MaxRequestHeaderCount, UrlSegmentMaxLength, UrlSegmentMaxCount, MaxRequestBodySize.</summary>
    public IReadOnlyDictionary<string, long> Limits { get; }

    public IReadOnlyList<RequestCase> Cases { get; }

    public int Limit(string name) => (int)Limits[name];

    private static readonly Lazy<RequestCorpus> s_loaded = new(() => Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, FileName))));

    public static RequestCorpus Loaded => s_loaded.Value;

    public static IEnumerable<object[]> CaseNames => Loaded.Cases.Select(c => new object[] { c.Name });

    public RequestCase this[string name] => Cases.First(c => c.Name == name);

    public static RequestCorpus Parse(string text)
    {
        var limits = new Dictionary<string, long>(StringComparer.Ordinal);
        var cases = new List<RequestCase>();
        string? name = null;
        var request = new StringBuilder();
        var outcomes = new List<string>();

        void Finish()
        {
            if (name is null)
            {
                return;
            }
            if (outcomes.Count == 0)
            {
                throw new FormatException($"Corpus case '{name}' has no '=>' outcome.");
            }
            if (cases.Exists(c => c.Name == name))
            {
                throw new FormatException($"Corpus case '{name}' appears twice.");
            }
            cases.Add(new RequestCase(name, Unescape(request.ToString()), outcomes.ToArray()));
            request.Clear();
            outcomes.Clear();
        }

        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                Finish();
                name = line[3..].Trim();
            }
            else if (line.StartsWith("=> ", StringComparison.Ordinal))
            {
                outcomes.Add(line[3..].Trim());
            }
            else if (line.StartsWith("@limits ", StringComparison.Ordinal))
            {
                foreach (string pair in line[8..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = pair.Split('=');
                    limits[parts[0]] = long.Parse(parts[1], CultureInfo.InvariantCulture);
                }
            }
            else if (line.StartsWith('#') || (name is null && line.Trim().Length == 0))
            {
                continue;
            }
            else if (name is not null && outcomes.Count == 0)
            {
                request.Append(line);
            }
            else if (line.Trim().Length > 0)
            {
                throw new FormatException($"Unexpected line in the corpus after case '{name}': {line}");
            }
        }
        Finish();
        return new RequestCorpus(limits, cases);
    }

    /// <summary>Request bytes from the file's escaped text.</summary>
    public static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '{')
            {
                int star = text.IndexOf('*', i);
                int close = text.IndexOf('}', i);
                if (star == i + 2 && close > star)
                {
                    int count = int.Parse(text.AsSpan(star + 1, close - star - 1), CultureInfo.InvariantCulture);
                    for (int n = 0; n < count; n++)
                    {
                        bytes.Add((byte)text[i + 1]);
                    }
                    i = close;
                    continue;
                }
            }
            if (c != '\\')
            {
                bytes.Add(checked((byte)c));
                continue;
            }
            char e = text[++i];
            switch (e)
            {
                case 'r': bytes.Add((byte)'\r'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case '0': bytes.Add(0); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '{': bytes.Add((byte)'{'); break;
                case 'x':
                    bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                default: throw new FormatException($"Unknown escape \\{e} in the corpus.");
            }
        }
        return bytes.ToArray();
    }

    /// <summary>The outcome line for a request the app received (the servers' echo uses the same form).</summary>
    public static string Describe(string method, string pathAndQuery, ReadOnlySpan<byte> body, IEnumerable<KeyValuePair<string, string>> headers,
        IEnumerable<KeyValuePair<string, string>>? trailers = null)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(Escape(Encoding.UTF8.GetBytes(pathAndQuery)));
        if (!body.IsEmpty)
        {
            text.Append(" body=").Append(Escape(body));
        }
        foreach (var (headerName, value) in headers
            .Where(h => h.Key.StartsWith("X-", StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            text.Append(' ').Append(headerName.ToLowerInvariant()).Append('=').Append(Escape(Encoding.Latin1.GetBytes(value)));
        }
        foreach (var (trailerName, value) in (trailers ?? []).OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase))
        {
            text.Append(" trailer:").Append(trailerName.ToLowerInvariant()).Append('=').Append(Escape(Encoding.Latin1.GetBytes(value)));
        }
        return text.ToString();
    }

    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            if (b is > (byte)' ' and < 0x7F && b != (byte)'\\')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append("\\x").Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return text.ToString();
    }
}

/// <summary>One corpus case.</summary>
public sealed record RequestCase(string Name, byte[] Request, string[] Outcomes)
{
    public override string ToString() => Name;
}
