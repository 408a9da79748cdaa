using BenchmarkDotNet.Running;

// Runs the benchmarks chosen on the command line, e.g. --filter '*Parser*'; see bench/README.md.
BenchmarkSwitcher.FromAssembly(typeof(HttpSysLite.Bench.Micro.ParserBenchmarks).Assembly).Run(args);
