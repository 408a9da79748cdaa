using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Tests.Unit.Sockets;

/// <summary>The wait of an epoll-served stream: no edge lost between an attempt and the wait, cancellable, released once.</summary>
public sealed class ReadinessWaiterTests
{
    [Fact]
    public async Task AnEdgeThatCameBeforeTheWaitEndsItAtOnce()
    {
        var waiter = new ReadinessWaiter(continueOnLoop: false);
        int ready = 1; // the event set it after the caller's attempt cleared it
        var wait = waiter.WaitAsync(ref ready, CancellationToken.None);
        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
    }

    [Fact]
    public async Task AReleaseEndsAPendingWaitAndALaterReleaseIsHarmless()
    {
        var waiter = new ReadinessWaiter(continueOnLoop: false);
        int ready = 0;
        var wait = waiter.WaitAsync(ref ready, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        waiter.Release();
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        waiter.Release(); // nothing waits: nothing to complete

        var second = waiter.WaitAsync(ref ready, CancellationToken.None);
        Assert.False(second.IsCompleted);
        waiter.Release();
        await second.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ACancelledWaitThrowsAndTheNextWaitStillWorks()
    {
        var waiter = new ReadinessWaiter(continueOnLoop: false);
        int ready = 0;
        using var cancel = new CancellationTokenSource();
        var wait = waiter.WaitAsync(ref ready, cancel.Token).AsTask();
        cancel.Cancel();
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(cancel.Token, thrown.CancellationToken);
        waiter.Release(); // the cancelled wait is over: a release afterwards completes nothing

        var next = waiter.WaitAsync(ref ready, CancellationToken.None);
        Assert.False(next.IsCompleted);
        waiter.Release();
        await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ATokenCancelledAlreadyEndsTheWaitAtOnce()
    {
        var waiter = new ReadinessWaiter(continueOnLoop: true);
        int ready = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(ref ready, new CancellationToken(true)).AsTask());
    }

    [Fact]
    public async Task OnTheLoopTheContinuationRunsOnTheReleasingThread()
    {
        var waiter = new ReadinessWaiter(continueOnLoop: true);
        int ready = 0;
        int releasing = -1, continued = -2;
        var wait = waiter.WaitAsync(ref ready, CancellationToken.None);
        var continuedOn = new TaskCompletionSource<int>();
        // Attached before the release, on this thread, and as the driver awaits (no scheduling context:
        // the test runner's would take the continuation elsewhere).
#pragma warning disable xUnit1030 // the point of the test: where the continuation runs with no context
        wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => continuedOn.SetResult(Environment.CurrentManagedThreadId));
#pragma warning restore xUnit1030
        var thread = new Thread(() =>
        {
            releasing = Environment.CurrentManagedThreadId;
            waiter.Release();
        });
        thread.Start();
        thread.Join();
        continued = await continuedOn.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(releasing, continued);
    }
}
