using HttpSysLite.RequestProcessing;
using HttpSysLite.Transport.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace HttpSysLite.Tests.Unit.Server;

/// <summary>
/// HeaderCollection against ASP.NET Core's HeaderDictionary as the oracle: the same operations must
/// give the same answers, the same exceptions and the same contents.
/// </summary>
public class HeaderCollectionTests
{
    // Add on purpose: its duplicate-key exception is part of the contract being compared (ASP0019 warns of exactly that).
#pragma warning disable ASP0019
    private static readonly Action<IHeaderDictionary>[] s_operations =
    [
        h => h["Content-Type"] = "text/plain",
        h => h["content-type"] = "text/html",
        h => h["X-Multi"] = new StringValues(["a", "b"]),
        h => h["X-Empty"] = "",
        h => h["X-Multi"] = StringValues.Empty,
        h => h.Add("X-Added", "1"),
        h => h.Add("x-added", "2"),
        h => h.Add(new KeyValuePair<string, StringValues>("X-Pair", "p")),
        h => h.Remove("X-ADDED"),
        h => h.Remove("Not-There"),
        h => h.Remove(new KeyValuePair<string, StringValues>("X-Pair", "other")),
        h => h.Remove(new KeyValuePair<string, StringValues>("X-Pair", "p")),
        h => h.ContentLength = 42,
        h => h["Content-Length"] = " 17 ",
        h => h["Content-Length"] = "-1",
        h => h["Content-Length"] = new StringValues(["1", "1"]),
        h => h.ContentLength = null,
        h => h.ContentLength = 0,
        h => h.CacheControl = "max-age=10",
        h => h["Server"] = "app",
        h => h.Clear(),
        h => h[null!] = "x",
    ];
#pragma warning restore ASP0019

    [Fact]
    public void EverySequenceOfOperationsMatchesHeaderDictionary()
    {
        var random = new Random(1234);
        for (int run = 0; run < 2000; run++)
        {
            var ours = new HeaderCollection();
            var oracle = new HeaderDictionary();
            int steps = random.Next(1, 12);
            var trail = new List<int>();
            for (int step = 0; step < steps; step++)
            {
                int op = random.Next(s_operations.Length);
                trail.Add(op);
                var ourError = Try(() => s_operations[op](ours));
                var oracleError = Try(() => s_operations[op](oracle));
                Assert.True(ourError?.GetType() == oracleError?.GetType(), $"ops {string.Join(",", trail)}: {ourError} vs {oracleError}");
                AssertSame(oracle, ours, trail);
            }
        }
    }

    [Fact]
    public void ReadOnlyRejectsEveryChangeLikeHeaderDictionary()
    {
        var ours = new HeaderCollection { ["A"] = "1" };
        var oracle = new HeaderDictionary { ["A"] = "1" };
        ours.IsReadOnly = true;
        oracle.IsReadOnly = true;
        foreach (var operation in s_operations[..21])
        {
            var ourError = Try(() => operation(ours));
            var oracleError = Try(() => operation(oracle));
            Assert.Equal(oracleError?.GetType(), ourError?.GetType());
            Assert.Equal(oracleError?.Message, ourError?.Message);
        }
        Assert.Equal("1", ours["a"]);
    }

    [Fact]
    public void CopyFromJoinsRepeatedFieldsInArrivalOrder()
    {
        var request = new RequestHeaders();
        request.Add("Host"u8, "a"u8);
        request.Add("Accept"u8, "x"u8);
        request.Add("accept"u8, "y"u8);
        request.Add("Cookie"u8, "c=1"u8);
        var headers = new HeaderCollection();
        headers["Stale"] = "from the previous request";
        headers.CopyFrom(request, latin1: false);

        Assert.Equal(["Host", "Accept", "Cookie"], headers.Select(h => h.Key));
        Assert.Equal(new StringValues(["x", "y"]), headers["ACCEPT"]);
        Assert.False(headers.ContainsKey("Stale"));
        Assert.Equal(3, headers.Count);
    }

    [Fact]
    public void ManyFieldsAreFoundThroughTheIndexAndStayConsistentAfterRemoval()
    {
        var ours = new HeaderCollection();
        var oracle = new HeaderDictionary();
        for (int i = 0; i < 200; i++)
        {
            ours[$"X-Field-{i}"] = i.ToString();
            oracle[$"X-Field-{i}"] = i.ToString();
        }
        Assert.Equal("150", ours["x-field-150"]);
        for (int i = 0; i < 200; i += 3)
        {
            Assert.Equal(oracle.Remove($"x-FIELD-{i}"), ours.Remove($"x-FIELD-{i}"));
        }
        ours["X-Field-7"] = "seven";
        oracle["X-Field-7"] = "seven";
        ours["X-Late"] = "late";
        oracle["X-Late"] = "late";
        AssertSame(oracle, ours, []);
        Assert.True(ours.Count > HeaderCollection.IndexThreshold);
    }

    [Fact]
    public void ContentLengthIsParsedAgainWhenItsValueChanges()
    {
        var headers = new HeaderCollection();
        Assert.Null(headers.ContentLength);
        headers["Content-Length"] = "10";
        Assert.Equal(10, headers.ContentLength);
        Assert.Equal(10, headers.ContentLength);
        headers["content-length"] = "11";
        Assert.Equal(11, headers.ContentLength);
        headers.Remove("CONTENT-LENGTH");
        Assert.Null(headers.ContentLength);
        headers.ContentLength = 12;
        Assert.Equal("12", headers["Content-Length"]);
    }

    private static void AssertSame(HeaderDictionary oracle, HeaderCollection ours, List<int> trail)
    {
        string context = $"ops {string.Join(",", trail)}";
        Assert.True(oracle.Count == ours.Count, context);
        Assert.True(oracle.ContentLength == ours.ContentLength, context);
        foreach (var pair in oracle)
        {
            Assert.True(ours.TryGetValue(pair.Key.ToUpperInvariant(), out var value), context);
            Assert.True(StringValues.Equals(pair.Value, value), context);
            Assert.True(ours.Contains(pair), context);
        }
        var copied = new KeyValuePair<string, StringValues>[ours.Count + 1];
        ours.CopyTo(copied, 1);
        Assert.Equal(ours.Select(p => p.Key), copied.Skip(1).Select(p => p.Key));
        Assert.Equal(oracle.Keys.OrderBy(k => k, StringComparer.OrdinalIgnoreCase), ours.Keys.OrderBy(k => k, StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
    }

    private static Exception? Try(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
