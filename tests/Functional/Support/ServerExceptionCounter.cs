using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// Counts the first-chance exceptions thrown by server code in this process while it is alive: an
/// exception counts when the stack that throws it has a frame of the server's assemblies (the driver,
/// the server, ASP.NET Core's own, the sample app). The test's client code (HttpClient, ClientWebSocket,
/// raw sockets) runs on none of them, so its exceptions are left out. Each exception seen is kept with
/// its stack, for the assertion's message.
/// </summary>
public sealed class ServerExceptionCounter : IDisposable
{
    [ThreadStatic]
    private static bool t_inHandler;

    private readonly ConcurrentQueue<string> _seen = new();
    private readonly ConcurrentDictionary<string, int> _kinds = new();

    public ServerExceptionCounter() => AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;

    public int Count => _seen.Count;

    /// <summary>Each exception seen: its type, message and the stack that threw it.</summary>
    public IReadOnlyCollection<string> Seen => _seen;

    /// <summary>How many of each kind (type, and the server method that threw or passed it on), most first.</summary>
    public string Summary() => string.Join("\n", _kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Value} x {k.Key}"));

    /// <summary>True for the assemblies whose frames make an exception the server's.</summary>
    public static bool IsServerAssembly(string? name) =>
        name is not null && (name is "HttpSysLite" or "HttpSysLite.Transport" or "MinimalApi" || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal));

    public void Dispose() => AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;

    private void OnFirstChance(object? sender, FirstChanceExceptionEventArgs e)
    {
        if (t_inHandler)
        {
            return; // an exception while looking at the stack: never count our own
        }
        t_inHandler = true;
        try
        {
            var trace = new StackTrace(1, fNeedFileInfo: false);
            foreach (var frame in trace.GetFrames())
            {
                var method = frame.GetMethod();
                if (IsServerAssembly(method?.DeclaringType?.Assembly.GetName().Name))
                {
                    _kinds.AddOrUpdate($"{e.Exception.GetType().Name} in {method!.DeclaringType!.FullName}.{method.Name}", 1, static (_, n) => n + 1);
                    _seen.Enqueue($"{e.Exception.GetType().Name}: {e.Exception.Message}\n{trace}");
                    return;
                }
            }
        }
        finally
        {
            t_inHandler = false;
        }
    }
}
