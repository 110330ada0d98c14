using System.CommandLine;
using Spectre.Console;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>sp bench</c>: prints (a) engine-only events/s on one thread, (b) end-to-end events/s through the
/// embedded Kafka with SQLite checkpoints, (c) resident bytes per active user entity. Figures, not
/// assertions: run it in Release on an otherwise idle machine.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var engineEvents = new Option<int>("--engine-events") { Description = "Decoded events pushed through one shard for (a).", DefaultValueFactory = _ => 2_000_000 };
        var e2eRecords = new Option<int>("--e2e-records") { Description = "Records produced to the embedded Kafka for (b).", DefaultValueFactory = _ => 400_000 };
        var e2ePartitions = new Option<int>("--e2e-partitions") { Description = "Partitions of the benchmark topic for (b) (the mock keeps ≤ 5 MB per partition).", DefaultValueFactory = _ => 24 };
        var memoryUsers = new Option<int>("--memory-users") { Description = "Resident user entities for (c).", DefaultValueFactory = _ => 100_000 };
        var assignCalls = new Option<int>("--assign-calls") { Description = "Assignment decisions timed for the assignment figure.", DefaultValueFactory = _ => 5_000_000 };
        var httpRate = new Option<int>("--http-rate") { Description = "Requests per second of the HTTP assignment load (open loop).", DefaultValueFactory = _ => 5_000 };
        var httpSeconds = new Option<int>("--http-seconds") { Description = "Measured seconds of the HTTP assignment load.", DefaultValueFactory = _ => 20 };
        var httpUsers = new Option<int>("--http-users") { Description = "Distinct users the HTTP load draws from (first requests store new assignments).", DefaultValueFactory = _ => 50_000 };
        var httpGeneratorProcess = new Option<bool>("--http-generator-process") { Description = "Run the HTTP load generator as its own 'sp loadgen' process instead of inside the benchmark process (on 2 cores the extra process costs more than it isolates)." };
        var actorRecords = new Option<int>("--actor-records") { Description = "Records pushed through the sharded user actors for (a′).", DefaultValueFactory = _ => 1_000_000 };
        var actorPartitions = new Option<int>("--actor-partitions") { Description = "Partitions running rounds at once for (a′).", DefaultValueFactory = _ => 8 };
        var actorBatch = new Option<int>("--actor-batch") { Description = "Records per round for (a′).", DefaultValueFactory = _ => 5_000 };
        var only = new Option<string?>("--only") { Description = "Run one part: engine, privacy (with engine), actors (with graph), graph, e2e, memory, assign or http; or scale (node processes; only when asked for)." };
        var command = new Command("bench", "Benchmarks: engine-only events/s, end-to-end events/s (embedded Kafka + SQLite), bytes per user entity.")
        {
            engineEvents, actorRecords, actorPartitions, actorBatch, e2eRecords, e2ePartitions, memoryUsers, assignCalls, httpRate, httpSeconds, httpUsers, httpGeneratorProcess, only,
            ScaleBenchmark.Postgres, ScaleBenchmark.Records, ScaleBenchmark.ReadyUsers, ScaleBenchmark.SessionTimeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!StartupErrors.KafkaLoads()) return StartupErrors.ConfigurationError;
            var part = parse.GetValue(only);
            var settings = NodeSettings.Load(null);
            var table = new Table().AddColumns("measure", "result", "target");
            var engineRate = part is null or "engine" or "privacy" ? EngineBenchmark.Run(settings, parse.GetValue(engineEvents), table) : 0;
            if (part is null or "privacy") PrivacyBenchmark.Run(settings, parse.GetValue(engineEvents) / 2, engineRate, table);
            if (part is null or "actors") await ActorBenchmark.RunAsync(settings, parse.GetValue(actorRecords), parse.GetValue(actorPartitions), parse.GetValue(actorBatch), table);
            if (part is null or "actors" or "graph") await GraphBenchmark.RunAsync(settings, parse.GetValue(actorRecords), parse.GetValue(actorPartitions), parse.GetValue(actorBatch), table);
            if (part is null or "memory") MemoryBenchmark.Run(settings, parse.GetValue(memoryUsers), table);
            if (part is null or "assign") AssignmentBenchmark.Run(Path.Combine("config", "experiments.yaml"), parse.GetValue(assignCalls), table);
            if (part is null or "http") await HttpAssignmentBenchmark.RunAsync(settings, parse.GetValue(httpRate), TimeSpan.FromSeconds(parse.GetValue(httpSeconds)), parse.GetValue(httpUsers), !parse.GetValue(httpGeneratorProcess), table, ct);
            if (part is null or "e2e") await EndToEndBenchmark.RunAsync(settings, parse.GetValue(e2eRecords), parse.GetValue(e2ePartitions), table, ct);
            if (part is "scale") await ScaleBenchmark.RunAsync(parse, table, ct);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]{Environment.ProcessorCount} cores, .NET {Environment.Version}, {(System.Diagnostics.Debugger.IsAttached ? "debugger attached" : "no debugger")}, {BuildKind()} build[/]");
            return 0;
        });
        return command;
    }

    private static string BuildKind() =>
        typeof(BenchCommand).Assembly.GetCustomAttributes(false).OfType<System.Diagnostics.DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled) ? "Debug" : "Release";
}
