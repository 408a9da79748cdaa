using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace MinimalApi;

/// <summary>
/// Opt-in, for bench/soak.sh: with <c>SAMPLE_EXCEPTION_REPORT=N</c> in the environment the sample
/// counts every first-chance exception in the process (thrown, whether caught or not) and writes one
/// line to standard output every N seconds, <c>first-chance exceptions: TOTAL (Type count, ...)</c>,
/// and each type's first stack once. The handler runs only when something throws: the request path
/// pays nothing, and without the variable nothing is registered.
/// </summary>
public static class FirstChanceExceptionReport
{
    /// <summary>The environment variable that turns the report on: its period in seconds.</summary>
    public const string Variable = "SAMPLE_EXCEPTION_REPORT";

    [ThreadStatic]
    private static bool t_inHandler;

    private static readonly ConcurrentDictionary<string, int> s_byType = new();
    private static long s_total;
    private static Timer? s_timer;

    /// <summary>Starts counting and reporting when <see cref="Variable"/> holds a period in seconds.</summary>
    public static void StartIfAsked()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), out int seconds) || seconds <= 0 || s_timer is not null)
        {
            return;
        }
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
        var period = TimeSpan.FromSeconds(seconds);
        s_timer = new Timer(static _ => Report(), null, period, period);
        Report();
    }

    private static void OnFirstChance(object? sender, FirstChanceExceptionEventArgs e)
    {
        if (t_inHandler)
        {
            return;
        }
        t_inHandler = true;
        try
        {
            Interlocked.Increment(ref s_total);
            string type = e.Exception.GetType().Name;
            if (s_byType.AddOrUpdate(type, 1, static (_, count) => count + 1) == 1)
            {
                Console.WriteLine($"first-chance exception {type} first thrown: {e.Exception.Message}\n{Environment.StackTrace}");
            }
        }
        finally
        {
            t_inHandler = false;
        }
    }

    private static void Report()
    {
        string types = string.Join(", ", s_byType.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value}"));
        Console.WriteLine($"first-chance exceptions: {Interlocked.Read(ref s_total)} ({types})");
    }
}
