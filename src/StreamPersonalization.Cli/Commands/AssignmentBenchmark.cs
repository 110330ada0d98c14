using System.Diagnostics;
using Spectre.Console;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// In-process assignment decisions for a fixed split (salted SHA-256 bucket → variant), one thread:
/// throughput over all calls, and latency percentiles from per-call timestamps (which add ~20–40 ns).
/// </summary>
internal static class AssignmentBenchmark
{
    public static void Run(string experimentsFile, int calls, Table table)
    {
        var catalog = ExperimentCatalogLoader.LoadFile(experimentsFile);
        var experiment = catalog.Experiments.First(e => e.Kind == ExperimentKind.Fixed && e.Status == ExperimentStatus.Running);
        var users = Enumerable.Range(0, 100_000).Select(i => $"u{i:D6}").ToArray();
        for (var i = 0; i < 200_000; i++) AssignmentPolicy.Decide(experiment, users[i % users.Length], true, true, true);   // warm-up

        var sw = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) AssignmentPolicy.Decide(experiment, users[i % users.Length], true, true, true);
        var rate = calls / sw.Elapsed.TotalSeconds;

        var samples = new long[Math.Min(calls, 1_000_000)];
        for (var i = 0; i < samples.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            AssignmentPolicy.Decide(experiment, users[i % users.Length], true, true, true);
            samples[i] = Stopwatch.GetTimestamp() - start;
        }
        Array.Sort(samples);
        double Us(double q) => samples[(int)(q * (samples.Length - 1))] * 1e6 / Stopwatch.Frequency;
        table.AddRow($"assignment, fixed split '{experiment.Id}', {calls:N0} decisions, 1 thread",
            $"[bold]{rate:N0}/s[/], p50 {Us(0.50):F2} µs, p99 {Us(0.99):F2} µs",
            (rate >= 1_000_000 ? "≥ 1 M/s: [green]met[/]" : "≥ 1 M/s: [red]not met[/]") + (Us(0.99) < 5 ? ", p99 < 5 µs: [green]met[/]" : ", p99 < 5 µs: [red]not met[/]"));
    }
}
