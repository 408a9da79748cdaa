using System.Buffers;
using HttpSysLite.Tests.Corpus;
using HttpSysLite.Tests.Unit.Support;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Tests.Unit.Http;

/// <summary>
/// Runs every case of request-corpus.txt through the driver's pure request path: the head parser, the
/// head validation the connection applies, and the body framing (Content-Length or the chunked decoder)
/// with the corpus's MaxRequestBodySize, request after request while the connection would persist. Each
/// case runs on one contiguous buffer and on one byte per segment. The functional tests run the same
/// cases over sockets.
/// </summary>
public class RequestCorpusTests
{
    private static readonly RequestCorpus Corpus = RequestCorpus.Loaded;

    public static IEnumerable<object[]> Names => RequestCorpus.CaseNames;

    [Fact]
    public void TheCorpusHasAtLeast300CasesCoveringEveryGroup()
    {
        Assert.True(Corpus.Cases.Count >= 300, $"{Corpus.Cases.Count} cases");
        var groups = Corpus.Cases.Select(c => c.Name.Split('/')[0]).ToHashSet();
        foreach (string group in new[] { "valid", "line", "target", "version", "header", "host", "length", "te", "chunked", "smuggle", "limit" })
        {
            Assert.Contains(group, groups);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CaseHasItsOutcomesOnOneBuffer(string name)
    {
        var corpusCase = Corpus[name];
        Assert.Equal(corpusCase.Outcomes, Run(new ReadOnlySequence<byte>(corpusCase.Request)));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CaseHasItsOutcomesOneBytePerSegment(string name)
    {
        var corpusCase = Corpus[name];
        Assert.Equal(corpusCase.Outcomes, Run(Segments.OneBytePerSegment(corpusCase.Request)));
    }

    /// <summary>What a connection would do with these bytes, as outcome lines (see <see cref="RequestCorpus"/>).</summary>
    internal static List<string> Run(ReadOnlySequence<byte> input)
    {
        var limits = new HttpParserLimits(Corpus.Limit("MaxRequestBytes"), Corpus.Limit("MaxFieldLength"), Corpus.Limit("MaxRequestHeaderCount"))
        {
            UrlSegmentMaxLength = Corpus.Limit("UrlSegmentMaxLength"),
            UrlSegmentMaxCount = Corpus.Limit("UrlSegmentMaxCount"),
        };
        long maxBody = Corpus.Limits["MaxRequestBodySize"];
        var outcomes = new List<string>();
        var context = RequestContext.CreateDetached(limits);
        while (!input.IsEmpty)
        {
            context.Reset();
            var head = new RequestHeadHandler(context);
            var status = HttpParser.ParseHead(input, ref head, limits, out long consumed, out var reason);
            if (status == ParseResult.Incomplete)
            {
                outcomes.Add("incomplete");
                break;
            }
            if (status == ParseResult.Done)
            {
                reason = head.Validate(out bool keepAliveAfter);
                if (reason == RequestRejectionReason.None)
                {
                    input = input.Slice(consumed);
                    var body = new List<byte>();
                    var trailers = new List<KeyValuePair<string, string>>();
                    string? failure = ReadBody(context, ref input, limits, maxBody, body, trailers);
                    if (failure is not null)
                    {
                        outcomes.Add(failure);
                        break;
                    }
                    var headers = new List<KeyValuePair<string, string>>();
                    for (int i = 0; i < context.Headers.Count; i++)
                    {
                        headers.Add(new(context.Headers.NameAt(i), context.Headers.ValueAt(i)));
                    }
                    outcomes.Add(RequestCorpus.Describe(context.Method, context.CanonicalPath + context.QueryString, body.ToArray(), Combine(headers), Combine(trailers)));
                    if (!keepAliveAfter)
                    {
                        break;
                    }
                    continue;
                }
            }
            outcomes.Add(RequestRejection.StatusCode(reason).ToString(System.Globalization.CultureInfo.InvariantCulture));
            break;
        }
        return outcomes;
    }

    /// <summary>Reads the body as the app would, and its trailers; returns an outcome when that fails or cannot finish.</summary>
    private static string? ReadBody(RequestContext context, ref ReadOnlySequence<byte> input, HttpParserLimits limits, long maxBody, List<byte> body,
        List<KeyValuePair<string, string>> trailers)
    {
        if (context.IsChunked)
        {
            var decoder = new ChunkedDecoder();
            var destination = new byte[256];
            var fields = new RequestHeaders();
            while (!decoder.IsComplete)
            {
                var status = decoder.Decode(input, destination, limits, fields, out var position, out int written, out var reason);
                if (status == ParseResult.Invalid)
                {
                    return RequestRejection.StatusCode(reason).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                if (status == ParseResult.Incomplete)
                {
                    return "incomplete";
                }
                input = input.Slice(position);
                body.AddRange(destination.AsSpan(0, written).ToArray());
                if (body.Count > maxBody)
                {
                    return "413";
                }
            }
            for (int i = 0; i < fields.Count; i++)
            {
                trailers.Add(new(fields.NameAt(i), fields.ValueAt(i)));
            }
            return null;
        }
        if (context.ContentLength is long length && length > 0)
        {
            if (length > maxBody)
            {
                return "413";
            }
            if (input.Length < length)
            {
                return "incomplete";
            }
            body.AddRange(input.Slice(0, length).ToArray());
            input = input.Slice(length);
        }
        return null;
    }

    /// <summary>Repeated fields as the app sees them: one name, values joined by a comma (RFC 9110 section 5.3).</summary>
    private static IEnumerable<KeyValuePair<string, string>> Combine(List<KeyValuePair<string, string>> headers) =>
        headers.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => new KeyValuePair<string, string>(g.Key, string.Join(",", g.Select(h => h.Value))));
}
