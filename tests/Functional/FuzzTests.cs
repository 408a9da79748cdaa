using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using HttpSysLite.Tests.Corpus;
using HttpSysLite.Tests.Functional.Support;
using HttpSysLite.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Bounded fuzzing over real sockets: deterministic mutants of valid requests (tests/Unit/Corpus), each on
/// its own connection, sent in randomly split writes and then half-closed. For every one the server must
/// answer with well-formed responses only (2xx from the app, or a 4xx/5xx) and close, within a bound;
/// no exception may escape a connection loop; and afterwards the server still serves normally. The
/// default run is 20,000 mutants; HTTPSYSLITE_FUZZ_ITERATIONS raises it.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class FuzzTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TwentyThousandMutantsEachGetAWellFormedAnswerAndAClose()
    {
        const int Seed = 4099;
        int iterations = RequestMutator.Iterations(20_000);
        var errors = new ConcurrentQueue<Exception>();
        void OnError(Exception ex) => errors.Enqueue(ex);
        HttpDriver.Shared.ConnectionError += OnError;
        try
        {
            await using var server = await TestServer.StartAsync(ServerKind.HttpSysLite, app => app.Run(async context =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                await context.Response.WriteAsync("ok");
            }), options => options.MaxRequestBodySize = 64 * 1024);

            var failures = new ConcurrentQueue<string>();
            var statuses = new ConcurrentDictionary<int, int>();
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, iterations), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            {
                byte[] mutant = RequestMutator.Mutate(Seed, i);
                string? failure = await CheckAsync(server, mutant, RequestMutator.SplitPoints(Seed, i, mutant.Length), statuses);
                if (failure is not null)
                {
                    failures.Enqueue($"iteration {i} ({RequestCorpus.Escape(mutant)}): {failure}");
                }
            });

            Assert.True(failures.IsEmpty, $"{failures.Count} of {iterations} mutants misbehaved, e.g.:\n" + string.Join("\n", failures.Take(10)));
            Assert.True(errors.IsEmpty, $"{errors.Count} exception(s) escaped connection loops, e.g. {errors.FirstOrDefault()}");
            // Both kinds of answer must have occurred, or the mutants were not exercising anything.
            Assert.Contains(200, statuses.Keys);
            Assert.Contains(400, statuses.Keys);

            using var client = server.CreateClient();
            Assert.Equal("ok", await client.GetStringAsync("/after-the-fuzz"));
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"took {clock.Elapsed}");
        }
        finally
        {
            HttpDriver.Shared.ConnectionError -= OnError;
        }
    }

    /// <summary>Sends one mutant and checks the answer; null when it is fine, else what was wrong.</summary>
    private static async Task<string?> CheckAsync(TestServer server, byte[] mutant, int[] splits, ConcurrentDictionary<int, int> statuses)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.EndPoint);
        int start = 0;
        try
        {
            foreach (int point in splits.Append(mutant.Length))
            {
                if (point > start)
                {
                    await socket.SendAsync(mutant.AsMemory(start, point - start), SocketFlags.None);
                    start = point;
                }
            }
            socket.Shutdown(SocketShutdown.Send); // the client is done: nothing may wait for more
        }
        catch (SocketException)
        {
            // The server refused early and closed; its answer is still readable.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }
                received.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException)
        {
            return $"no close within {Bound.TotalSeconds} s (got {received.Length} bytes)";
        }
        catch (SocketException)
        {
            // A reset after the answer (our unsent bytes met a closed socket).
        }
        return CheckResponses(received.ToArray(), statuses);
    }

    /// <summary>The bytes must be zero or more whole responses, each 1xx, 200 or 4xx/5xx, and nothing else.</summary>
    private static string? CheckResponses(byte[] bytes, ConcurrentDictionary<int, int> statuses)
    {
        int offset = 0;
        while (offset < bytes.Length)
        {
            int headEnd = bytes.AsSpan(offset).IndexOf("\r\n\r\n"u8);
            if (headEnd < 0)
            {
                return "a partial response head: " + Encoding.ASCII.GetString(bytes, offset, Math.Min(80, bytes.Length - offset));
            }
            string head = Encoding.ASCII.GetString(bytes, offset, headEnd);
            offset += headEnd + 4;
            var lines = head.Split("\r\n");
            if (!lines[0].StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || lines[0].Length < 12 || !int.TryParse(lines[0].AsSpan(9, 3), out int status))
            {
                return "not a status line: " + lines[0];
            }
            if (!(status is >= 100 and < 200 or 200 or >= 400 and < 600))
            {
                return "unexpected status: " + lines[0];
            }
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status < 200)
            {
                continue;
            }
            string? length = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (length is not null)
            {
                offset += int.Parse(length.AsSpan("Content-Length:".Length).Trim());
            }
            else if (lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)))
            {
                int end = bytes.AsSpan(offset).IndexOf("0\r\n\r\n"u8);
                if (end < 0)
                {
                    return "a chunked response without its last chunk";
                }
                offset += end + 5;
            }
            else if (status is not (204 or 304))
            {
                offset = bytes.Length; // close-delimited (an HTTP/1.0 response, RFC 9112 section 6.3)
            }
        }
        return offset == bytes.Length ? null : "bytes after the last response";
    }
}
