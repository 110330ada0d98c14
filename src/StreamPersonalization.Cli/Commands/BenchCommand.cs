using System.CommandLine;

namespace StreamPersonalization.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks (engine-only, end-to-end, memory per entity).");
}
