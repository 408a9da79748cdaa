using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace HttpSysLite.Tests.Functional.Support;

/// <summary>
/// A driver of a test's own on a fake clock, for a real server on real sockets whose timers move only
/// when the test says: register it with <see cref="Register"/>, wait for a connection to arm its timer,
/// then <see cref="Advance"/> to just before and past the deadline. Nothing sleeps.
/// </summary>
public sealed class FakeClock
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>A fake clock's driver, on the epoll engine (or .NET's, with <paramref name="socketEngine"/>).</summary>
    public FakeClock(bool socketEngine = false)
    {
        Driver = socketEngine
            ? new HttpDriver(SocketEngineTransportFactory.Instance, Time)
            : new HttpDriver(Time);
    }

    public FakeTimeProvider Time { get; } = new();

    internal HttpDriver Driver { get; }

    /// <summary>Makes the server use this driver (pass as TestServer's <c>services</c>).</summary>
    public void Register(IServiceCollection services) => services.AddSingleton(Driver);

    /// <summary>Waits (real time, bounded) until some connection runs <paramref name="kind"/>, so an advance counts for it.</summary>
    internal async Task<HttpConnection> WaitForTimerAsync(TimerKind kind)
    {
        HttpConnection? found = null;
        await WaitUntilAsync(() => (found = Driver.Connections.FirstOrDefault(c => c.Transport.Timeouts.RequestTimer == kind)) is not null,
            $"no connection armed {kind}");
        return found!;
    }

    /// <summary>Waits until some connection has a send waiting on the client (its MinSendBytesPerSecond deadline armed).</summary>
    internal async Task<HttpConnection> WaitForStalledSendAsync()
    {
        HttpConnection? found = null;
        await WaitUntilAsync(() => (found = Driver.Connections.FirstOrDefault(c => c.Transport.Timeouts.IsSendStalled(long.MaxValue - 1))) is not null,
            "no send waited on its client");
        return found!;
    }

    /// <summary>Moves the clock on in heartbeat periods, so the heartbeat sees every deadline on its way.</summary>
    public void Advance(TimeSpan by)
    {
        var step = Heartbeat.Period;
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            Time.Advance(by - moved < step ? by - moved : step);
        }
    }

    /// <summary>Past a deadline by a heartbeat period: the time a timer may fire late.</summary>
    public static TimeSpan Late => Heartbeat.Period + TimeSpan.FromMilliseconds(10);

    public static async Task WaitUntilAsync(Func<bool> condition, string because)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(because);
            }
            await Task.Delay(5);
        }
    }
}
