namespace HttpSysLite.Tests.Functional;

/// <summary>
/// Tests that read process-wide state (Timer.ActiveCount, EventSource listeners) or load the machine
/// (the fuzzer, slowloris, send pacing) run alone, not beside other test classes.
/// </summary>
[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection
{
}
