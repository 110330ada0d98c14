using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>GET /v1/assignments/{experiment}?user=</c> through Kestrel on loopback with the node's real assignment path
/// (cache, SQLite store, group-commit writer), driven open-loop at a fixed rate: each request's latency is measured
/// from when it was due, not when it was sent, so a stalled server cannot hide its queueing (no coordinated
/// omission). The load generator (<see cref="OpenLoopLoad"/>) runs in this process by default, or as its own process
/// (<c>sp loadgen</c>, which also drives a node on another machine): on a 2-core machine the second process's
/// threads cost the server more (p99 of a trivial route 1.4 → 3.6 ms) than its separate GC saves.
/// </summary>
internal static class HttpAssignmentBenchmark
{
    public static async Task RunAsync(NodeSettings settings, int rate, TimeSpan duration, int users, bool inProcess, Table table, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("sp-bench-http-").FullName;
        try
        {
            var path = Path.Combine(dir, "bench.db");
            await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
            await store.InitializeAsync(ct);
            var catalog = new ExperimentCatalogSource(settings.LoadExperiments() ?? throw new InvalidOperationException("the HTTP benchmark needs an experiment catalog (Experiments:File)"));
            var experiment = catalog.Current.Experiments.First(e => e.Kind == ExperimentKind.Fixed && e.Status == ExperimentStatus.Running && e.Targeting == TargetingRule.Everyone).Id;
            var segments = settings.LoadCatalog();
            var assignments = new SqliteAssignmentStore(new SqliteStoreOptions { Path = path });
            await using var writer = new AssignmentWriter(assignments, settings.Experiments.AssignmentWriteBatch, NullLogger<AssignmentWriter>.Instance);
            var board = new SnapshotBoard();
            var service = new AssignmentService(catalog, segments, new UserFactsReader(store, segments, settings.Experiments.UserFactsTtl), assignments, writer, board, settings.Experiments);
            var node = new StreamNode(settings.Node, settings.Kafka, settings.Shards, segments, store, new KafkaClientFactory(settings.Kafka), NullLoggerFactory.Instance);
            await using var app = await HealthEndpoints.StartAsync(node, new HttpOptions { Urls = "http://127.0.0.1:0" },
                new ExperimentServices(catalog, service, board, new SqliteDefinitionStore(new SqliteStoreOptions { Path = path }), null), NullLoggerFactory.Instance, ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

            LoadSummary load;
            if (inProcess)
            {
                using var http = LoadgenCommand.Client(address);
                await OpenLoopLoad.RunAsync(http, experiment, rate, TimeSpan.FromSeconds(3), users, "warm", ct);   // JIT, connections, pool
                load = await OpenLoopLoad.RunAsync(http, experiment, rate, duration, users, "run", ct);
            }
            else load = await RunGeneratorProcessAsync(address, experiment, rate, duration, users, ct);
            var where = inProcess ? "generator in-process" : "generator in its own process";
            table.AddRow($"HTTP GET /v1/assignments/{experiment}, open loop {rate:N0} req/s for {duration.TotalSeconds:N0} s, {users:N0} users (SQLite, loopback, {where})",
                $"[bold]{load.Rate:N0} req/s[/], {load.All}; first assignments {load.First.Count:N0}: p50 {load.First.P50:F2} ms, p99 {load.First.P99:F2} ms; " +
                $"repeat requests {load.Repeat.Count:N0}: p50 {load.Repeat.P50:F2} ms, p99 {load.Repeat.P99:F2} ms; from send: p50 {load.FromSend.P50:F2} ms, p99 {load.FromSend.P99:F2} ms; " +
                $"{writer.Commits:N0} store commits; errors {load.Errors}",
                load.All.P99 < 2 ? "p99 < 2 ms: [green]met[/]" : "p99 < 2 ms: [red]not met[/]");
        }
        finally
        {
            SqliteConnectionPoolReset();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs <c>sp loadgen</c> against <paramref name="address"/> and reads its JSON summary line.</summary>
    private static async Task<LoadSummary> RunGeneratorProcessAsync(string address, string experiment, int rate, TimeSpan duration, int users, CancellationToken ct)
    {
        using var process = Process.Start(SpProcess.StartInfo(
            ["loadgen", "--url", address, "--experiment", experiment, "--rate", $"{rate}", "--seconds", $"{(int)duration.TotalSeconds}", "--users", $"{users}"])) ?? throw new InvalidOperationException("could not start sp loadgen");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            // Warm-up and start-up on top of the measured time; a generator that outlives that is stopped.
            await process.WaitForExitAsync(ct).WaitAsync(duration + TimeSpan.FromMinutes(1), ct);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"sp loadgen exited with {process.ExitCode}: {await stderr}");
        return JsonSerializer.Deserialize<LoadSummary>(line, LoadgenCommand.Json) ?? throw new InvalidOperationException($"sp loadgen printed no summary: {line}");
    }

    private static void SqliteConnectionPoolReset() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}
