using System.Net.Sockets;
using HttpSysLite.Tests.Corpus;
using HttpSysLite.Tests.Functional.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// The request-case corpus (tests/Unit/Corpus/request-corpus.txt) over real sockets: each case's bytes
/// are sent on a fresh connection to a server whose app reads the whole body and echoes what it
/// received (in the corpus's description form, in an X-Echo header); the responses read back must be
/// the case's outcomes. HttpSysLite must match every case. Kestrel, the oracle, runs the same cases,
/// and the cases where it answers otherwise must be exactly those listed in <see cref="KestrelDifferences"/>,
/// each with the reason we chose our answer. Neither server may ever deliver a /smuggled request.
/// </summary>
public abstract class RequestCorpusTests : IAsyncLifetime
{
    /// <summary>Where Kestrel answers otherwise, and why HttpSysLite answers as the corpus says.</summary>
    public static readonly IReadOnlyDictionary<string, string> KestrelDifferences = new Dictionary<string, string>
    {
        ["chunked/bare-lf-ends-trailer-section"] = ChunkLf,
        ["chunked/extension-bad-name"] = ChunkExt,
        ["chunked/extension-empty-name"] = ChunkExt,
        ["chunked/extension-then-space"] = ChunkExt,
        ["chunked/extension-nul"] = ChunkExt,
        ["chunked/extension-unterminated-quote"] = ChunkExt,
        ["chunked/ows-before-extension"] = ChunkBws,
        ["chunked/size-overflow"] = K500,
        ["chunked/trailer-empty-value"] = TrailerEmpty,
        ["chunked/trailer-nul"] = K500,
        ["header/name-at"] = NameToken,
        ["header/name-backslash"] = NameToken,
        ["header/name-brace-close"] = NameToken,
        ["header/name-brace-open"] = NameToken,
        ["header/name-bracket-close"] = NameToken,
        ["header/name-bracket-open"] = NameToken,
        ["header/name-comma"] = NameToken,
        ["header/name-control"] = Name500,
        ["header/name-del"] = Name500,
        ["header/name-equals"] = NameToken,
        ["header/name-greater"] = NameToken,
        ["header/name-less"] = NameToken,
        ["header/name-paren-close"] = NameToken,
        ["header/name-paren-open"] = NameToken,
        ["header/name-question"] = NameToken,
        ["header/name-quote"] = NameToken,
        ["header/name-semicolon"] = NameToken,
        ["header/name-slash"] = NameToken,
        ["header/value-control"] = ValueCtl,
        ["header/value-del"] = ValueCtl,
        ["header/value-escape"] = ValueCtl,
        ["header/value-form-feed"] = ValueCtl,
        ["header/value-vertical-tab"] = ValueCtl,
        ["length/plus-sign"] = Plus,
        ["limit/body-chunked-at-max"] = Limit,
        ["limit/chunk-line-over"] = ChunkLine,
        ["limit/field-line-over"] = Limit,
        ["limit/field-line-over-unterminated"] = Limit,
        ["limit/field-name-over"] = Limit,
        ["limit/head-over"] = Limit,
        ["limit/request-line-at-max"] = Limit,
        ["limit/segment-count-over"] = Segment,
        ["limit/segment-count-over-with-empty-segments"] = Segment,
        ["limit/segment-length-over"] = Segment,
        ["limit/segment-length-over-after-decoding"] = Segment,
        ["limit/segment-length-over-in-the-middle"] = Segment,
        ["limit/trailer-count-at-max"] = TrailerCount,
        ["limit/trailer-count-over"] = Trailer,
        ["limit/trailer-line-over"] = Trailer,
        ["limit/trailer-section-over"] = Trailer,
        ["line/bare-cr-line-unfinished"] = BareCrWait,
        ["line/cr-inside"] = BareCr,
        ["line/http2-prior-knowledge"] = H2,
        ["line/lowercase-version"] = Version,
        ["line/two-spaces-before-version"] = Spaces,
        ["smuggle/chunk-size-overflow-wraps"] = K500,
        ["smuggle/cl-plus-sign"] = Plus,
        ["smuggle/cl-te"] = TeCl,
        ["smuggle/expect-continue-cl-te"] = TeCl,
        ["smuggle/te-case-with-cl"] = TeCl,
        ["smuggle/te-chunked-identity-alone"] = Unknown,
        ["smuggle/te-http10"] = Te10,
        ["smuggle/te-identity-chunked-with-cl"] = TeCl,
        ["smuggle/te-leading-space-with-cl"] = TeCl,
        ["smuggle/te-non-ascii-lookalike"] = Unknown,
        ["smuggle/te-quoted"] = Unknown,
        ["smuggle/te-tab-with-cl"] = TeCl,
        ["smuggle/te-xchunked-alone"] = Unknown,
        ["smuggle/upgrade-with-body-framing"] = TeCl,
        ["target/absolute-bad-percent"] = Canon,
        ["target/absolute-userinfo-quote"] = Userinfo,
        ["target/authority-form-connect"] = Connect,
        ["target/bad-percent"] = Canon,
        ["target/encoded-backslash-is-a-slash"] = Backslash,
        ["target/encoded-control"] = Canon,
        ["target/encoded-crlf"] = Canon,
        ["target/fragment"] = Fragment,
        ["target/fragment-after-query"] = Fragment,
        ["target/fragment-dot-segments-stay-in-it"] = Fragment,
        ["target/fragment-empty"] = Fragment,
        ["target/fragment-holds-question-mark"] = Fragment,
        ["target/invalid-utf8-byte"] = Canon,
        ["target/overlong-utf8-dot"] = Canon,
        ["target/overlong-utf8-slash"] = Canon,
        ["target/percent-at-end"] = Canon,
        ["target/raw-backslash-is-a-slash"] = Backslash,
        ["target/raw-del"] = RawChar,
        ["target/truncated-percent"] = Canon,
        ["target/truncated-utf8"] = Canon,
        ["target/utf8-surrogate"] = Canon,
        ["te/chunked-identity"] = Unknown,
        ["te/chunked-twice"] = Twice,
        ["te/chunked-twice-two-fields"] = Twice,
        ["te/chunked-with-parameter"] = Unknown,
        ["te/compress-then-chunked"] = UnknownFirst,
        ["te/content-length-first"] = TeCl,
        ["te/deflate-then-chunked"] = UnknownFirst,
        ["te/deflate-then-chunked-with-cl"] = TeCl,
        ["te/gzip-then-chunked"] = UnknownFirst,
        ["te/http10-chunked"] = Te10,
        ["te/identity"] = Unknown,
        ["te/quoted-chunked"] = Unknown,
        ["te/unknown-coding"] = Unknown,
        ["te/two-fields-ending-chunked"] = UnknownFirst,
        ["te/unknown-coding-then-chunked"] = UnknownFirst,
        ["te/with-content-length"] = TeCl,
        ["te/with-content-length-zero"] = TeCl,
        ["te/xchunked"] = Unknown,
        ["valid/absolute-form-uppercase-scheme"] = Scheme,
        ["valid/options-asterisk"] = Asterisk,
        ["version/comma"] = Version,
        ["version/letters"] = Version,
    };

    private const string Asterisk = "For OPTIONS * Kestrel gives the app an empty Path; HttpSysLite gives '/' (a PathString must start with a slash) and the raw target '*'.";

    private const string Backslash = "As HTTP.sys does, a backslash (raw or %5C) is a path separator after canonicalisation, so no prefix can be reached through it; Kestrel keeps it as a literal character.";

    private const string BareCr = "A CR not followed by LF is refused anywhere in the head (RFC 9112 section 2.2); Kestrel delivers a path that ends in CR.";

    private const string BareCrWait = "A CR not followed by LF already makes the head invalid (RFC 9112 section 2.2), so it is refused as soon as it arrives; Kestrel waits for the request line's LF, until its header timeout.";

    private const string Canon = "Paths are canonicalised before routing (docs/design.md section 4): invalid or truncated percent-encoding, invalid or overlong UTF-8 and encoded control characters are refused; Kestrel passes such paths to the app undecoded.";

    private const string ChunkBws = "RFC 9112 section 7.1.1 allows BWS before a chunk extension's ';'; Kestrel refuses it.";

    private const string ChunkExt = "Kestrel skips chunk extensions unchecked; we hold them to RFC 9112 section 7.1.1 (token names, token or quoted-string values).";

    private const string ChunkLf = "A bare LF cannot end chunked framing with us (400 at once); Kestrel waits for a CRLF until its body timeout (408).";

    private const string ChunkLine = "A chunk-size line longer than 4 KiB is malformed framing (400); Kestrel counts it against the body size (413).";

    private const string Connect = "Both answer 405; Kestrel's 405 to CONNECT keeps the connection open with no Content-Length, so it cannot be read to its end.";

    private const string H2 = "Kestrel speaks HTTP/2 with prior knowledge on a cleartext port and answers with an HTTP/2 frame; HttpSysLite speaks HTTP/1.x only, so PRI * HTTP/2.0 is an unsupported version (505).";

    private const string K500 = "Kestrel answers 500 (an internal error) to this malformed chunked body; we answer 400 (RFC 9112 section 7.1).";

    private const string Limit = "Limits are measured differently: HttpSysLite counts the request line and fields against MaxRequestBytes and each line against MaxFieldLength (HTTP.sys), Kestrel the request line and the header block apart, so the boundaries fall on other bytes.";

    private const string Name500 = "Kestrel answers 500 to a control character in a field name (an internal error); a malformed field is the client's 400 (RFC 9110 section 5.1).";

    private const string NameToken = "Kestrel accepts any visible character in a field name; RFC 9110 section 5.1 makes it a token, and a name two parsers split differently is a smuggling lever.";

    private const string Plus = "Content-Length = 1*DIGIT (RFC 9110 section 8.6); Kestrel reads '+3' as 3, a length a stricter proxy would refuse or read otherwise.";

    private const string RawChar = "DEL is a control character, never part of a URI (RFC 3986 section 2), so a target carrying it is refused; Kestrel passes it on.";

    private const string Fragment = "A '#' starts a fragment (RFC 3986 section 3.5), which names no part of the resource: we drop it before the path is canonicalised and routed, so its '/', '..' and '?' count for nothing; Kestrel keeps it as part of the path or query (and removes dot-segments across it).";

    private const string Scheme = "The scheme is case-insensitive (RFC 3986 section 3.1); Kestrel refuses HTTP:// in absolute-form.";

    private const string Segment = "UrlSegmentMaxLength and UrlSegmentMaxCount are HTTP.sys limits (registry, 260 and 255 by default); Kestrel has none.";

    private const string Spaces = "The request line is method SP request-target SP HTTP-version with single spaces (RFC 9112 section 3); Kestrel tolerates two before the version, and whitespace leniency is where parsers disagree.";

    private const string Te10 = "Transfer-Encoding on HTTP/1.0 is faulty framing (RFC 9112 section 6.1); Kestrel decodes it as chunked and, on a keep-alive 1.0 connection, goes on to deliver the request hidden after the body.";

    private const string TeCl = "Transfer-Encoding with Content-Length: RFC 9112 section 6.1 lets a server let TE win and close afterwards (Kestrel does); we refuse with 400, which shuts the CL.TE/TE.CL smuggling door outright (issue 3).";

    private const string Trailer = "Trailers are held to the head's limits and a bad trailer is a malformed body (400, RFC 9112 section 7.1.2); Kestrel answers 431 or keeps an over-long trailer line.";

    private const string TrailerCount = "The trailer section is held to the head's limits on its own, as a second field section (RFC 9112 section 7.1.2); Kestrel counts headers and trailers together against MaxRequestHeaderCount, so the Host header pushes 20 trailers over (431).";

    private const string TrailerEmpty = "An empty field value is a value (RFC 9110 section 5.5), in a trailer as in a header; Kestrel's trailer collection drops a field whose value is empty.";

    private const string Twice = "A sender must not apply chunked more than once (RFC 9112 section 6.1), so a list naming it twice is malformed; Kestrel decodes once and delivers.";

    private const string Unknown = "A transfer coding we do not implement is 501 (RFC 9112 section 6.1, issue 3); Kestrel answers 400.";

    private const string UnknownFirst = "Kestrel ignores codings before the final chunked and hands the app a body still in an encoding it never announced; we answer 501 for the coding we do not implement.";

    private const string Userinfo = "userinfo is dropped when it is RFC 3986's (section 3.2.1); one with a character outside that grammar (a quote here; a second '@' or a '\\' elsewhere) is refused, since parsers disagree on where such an authority ends. Kestrel drops whatever precedes the '@'.";

    private const string ValueCtl = "Kestrel passes control characters in field values to the app; RFC 9110 section 5.5 allows only VCHAR, obs-text, SP and HTAB.";

    private const string Version = "HTTP-version = 'HTTP/' DIGIT '.' DIGIT, case-sensitive (RFC 9112 section 2.3): anything else is malformed (400); only a well-formed version we do not speak is 505. Kestrel answers 505 to both.";

    private static readonly RequestCorpus Corpus = RequestCorpus.Loaded;
    private TestServer _server = null!;
    private int _smuggledDeliveries;

    protected abstract ServerKind Kind { get; }

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Kind, app => app.Run(EchoAsync), ApplyCorpusLimits, services: services => services.Configure<KestrelServerOptions>(options =>
        {
            // Kestrel measures its limits differently (the request line apart from the headers); the
            // nearest equivalents, so only the boundary cases differ.
            options.Limits.MaxRequestLineSize = Corpus.Limit("MaxFieldLength");
            options.Limits.MaxRequestHeadersTotalSize = Corpus.Limit("MaxRequestBytes");
            options.Limits.MaxRequestHeaderCount = Corpus.Limit("MaxRequestHeaderCount");
            options.Limits.MaxRequestBodySize = Corpus.Limits["MaxRequestBodySize"];
        }));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The corpus's "@limits" as HttpSysLite options.</summary>
    internal static void ApplyCorpusLimits(HttpSysLiteOptions options)
    {
        options.MaxRequestBytes = Corpus.Limit("MaxRequestBytes");
        options.MaxFieldLength = Corpus.Limit("MaxFieldLength");
        options.MaxRequestHeaderCount = Corpus.Limit("MaxRequestHeaderCount");
        options.UrlSegmentMaxLength = Corpus.Limit("UrlSegmentMaxLength");
        options.UrlSegmentMaxCount = Corpus.Limit("UrlSegmentMaxCount");
        options.MaxRequestBodySize = Corpus.Limits["MaxRequestBodySize"];
    }

    private async Task EchoAsync(HttpContext context)
    {
        var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        string path = context.Request.PathBase.Value + context.Request.Path.Value + context.Request.QueryString.Value;
        if (path.Contains("/smuggled", StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _smuggledDeliveries);
        }
        var headers = context.Request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value.ToArray())));
        // The body is read to its end, so the trailers are in (an absent feature: none reach the app).
        var trailers = context.Features.Get<IHttpRequestTrailersFeature>() is { Available: true } feature
            ? feature.Trailers.Select(t => new KeyValuePair<string, string>(t.Key, string.Join(",", t.Value.ToArray())))
            : null;
        context.Response.Headers["X-Echo"] = RequestCorpus.Describe(context.Request.Method, path, body.ToArray(), headers, trailers);
        context.Response.ContentLength = 0;
    }

    [Fact]
    public async Task EveryCaseHasItsOutcomesOverASocket()
    {
        var mismatches = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(Corpus.Cases, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (corpusCase, _) =>
        {
            var outcomes = await RunAsync(corpusCase);
            if (!outcomes.SequenceEqual(corpusCase.Outcomes))
            {
                mismatches[corpusCase.Name] = $"expected [{string.Join(" | ", corpusCase.Outcomes)}] got [{string.Join(" | ", outcomes)}]";
            }
        });

        if (Kind != ServerKind.Kestrel)
        {
            // The app-side proof for the smuggling vectors: no hidden request ever reached it. (Where
            // Kestrel delivers one, the case's extra outcome shows it, and the case is listed below.)
            Assert.Equal(0, Volatile.Read(ref _smuggledDeliveries));
        }
        var allowed = Kind == ServerKind.Kestrel ? KestrelDifferences : new Dictionary<string, string>();
        var unexpected = mismatches.Where(m => !allowed.ContainsKey(m.Key)).OrderBy(m => m.Key).Select(m => $"{m.Key}: {m.Value}").ToList();
        var stale = allowed.Keys.Where(k => !mismatches.ContainsKey(k)).OrderBy(k => k).ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} case(s) differ from the corpus:\n" + string.Join("\n", unexpected));
        Assert.True(stale.Count == 0, "Listed as Kestrel differences but Kestrel now agrees: " + string.Join(", ", stale));
    }

    /// <summary>Sends the case on a new connection and reads what comes back, as outcome lines.</summary>
    protected int SmuggledDeliveries => Volatile.Read(ref _smuggledDeliveries);

    protected Task<List<string>> RunCaseAsync(RequestCase corpusCase) => RunAsync(corpusCase);

    private async Task<List<string>> RunAsync(RequestCase corpusCase)
    {
        int expectedResponses = corpusCase.Outcomes.Count(o => o != "incomplete");
        var outcomes = new List<string>();
        await using var connection = await _server.ConnectAsync();
        try
        {
            await connection.SendAsync(corpusCase.Request);
        }
        catch (SocketException)
        {
            // The server may answer and close before it has read everything; the answer is still readable.
        }
        while (true)
        {
            // Once every expected response is in, a short wait shows whether anything else follows.
            var wait = outcomes.Count >= expectedResponses ? TimeSpan.FromMilliseconds(400) : TimeSpan.FromSeconds(10);
            bool? data = await connection.WaitForDataAsync(wait);
            if (data is null)
            {
                // The server waits. Short of the expected responses that is "incomplete"; after them an
                // idle keep-alive connection looks the same as one holding a partial request, so the
                // case's own last outcome decides.
                if (outcomes.Count < expectedResponses || corpusCase.Outcomes[^1] == "incomplete")
                {
                    outcomes.Add("incomplete");
                }
                break;
            }
            if (data == false)
            {
                break;
            }
            RawResponse response;
            try
            {
                response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is IOException or SocketException or FormatException or OperationCanceledException or IndexOutOfRangeException)
            {
                outcomes.Add("unreadable response");
                break;
            }
            if (response.StatusCode < 200)
            {
                continue; // 100 Continue
            }
            outcomes.Add(response.StatusCode == 200 ? response.Header("X-Echo") ?? "200 without X-Echo" : response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return outcomes;
    }
}

public sealed class HttpSysLiteRequestCorpusTests : RequestCorpusTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLite;

    public static IEnumerable<object[]> SmugglingVectors =>
        RequestCorpus.Loaded.Cases.Where(c => c.Name.StartsWith("smuggle/", StringComparison.Ordinal)).Select(c => new object[] { c.Name });

    /// <summary>One test per smuggling vector: the hidden request behind it never reaches the app.</summary>
    [Theory]
    [MemberData(nameof(SmugglingVectors))]
    public async Task TheHiddenRequestIsNeverDelivered(string name)
    {
        var corpusCase = RequestCorpus.Loaded[name];
        Assert.Contains("/smuggled", System.Text.Encoding.Latin1.GetString(corpusCase.Request), StringComparison.Ordinal);
        var outcomes = await RunCaseAsync(corpusCase);
        Assert.Equal(corpusCase.Outcomes, outcomes);
        Assert.DoesNotContain(outcomes, o => o.Contains("/smuggled ", StringComparison.Ordinal) || o.EndsWith("/smuggled", StringComparison.Ordinal));
        Assert.Equal(0, SmuggledDeliveries);
    }
}

public sealed class KestrelRequestCorpusTests : RequestCorpusTests
{
    protected override ServerKind Kind => ServerKind.Kestrel;
}

/// <summary>The same tests on HttpSysLite's portable path (.NET's socket engine), which Linux otherwise never runs.</summary>
public sealed class SocketEngineRequestCorpusTests : RequestCorpusTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteSocketEngine;
}

/// <summary>The same tests with the app behind the driver in another process (docs/design.md section 10).</summary>
public sealed class DriverRequestCorpusTests : RequestCorpusTests
{
    protected override ServerKind Kind => ServerKind.HttpSysLiteDriver;
}
