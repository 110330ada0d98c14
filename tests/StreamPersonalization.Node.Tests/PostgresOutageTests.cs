using System.Diagnostics;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// A real database outage: the PostgreSQL server a node process checkpoints to is stopped for several seconds
/// mid-run (pg_ctlcluster stop -m fast: every connection is cut) and started again. The node must ride it out —
/// shards stall and retry, nothing is skipped, the process does not exit — and end in the same state as a
/// fault-free run.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class PostgresOutageTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-pgdown-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task PostgresStoppedMidRun_NodeStallsAndRecoversWithoutLoss()
    {
        var scenario = new PipelineScenario(kafka, "pgdown", seed: 47, count: 30_000, users: 300, produceNow: 10_000);
        var run = scenario.KafkaFor("outage");
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await store.InitializeAsync();
        using var node = NodeProcess.Start(RunComparison.NodeArgs(kafka, run, "pgdown", "pgdown-users", Path.Combine(_dir, "node"),
            ["--store", "postgres", "--postgres", pg.ConnectionString, "--set", "Storage:Postgres:CommandTimeoutSeconds=5"]));
        await RunComparison.WaitForAsync(() => Progress(store), 3_000, node);

        var stoppedAt = await Progress(store);
        Cluster("stop", "-m", "fast");
        try
        {
            scenario.ProduceRest();
            await Task.Delay(TimeSpan.FromSeconds(6));
            Assert.False(node.HasExited, $"the node exited during the outage:\n{node.Log}");
        }
        finally
        {
            Cluster("start");
            Npgsql.NpgsqlConnection.ClearAllPools();   // this process's pooled connections were cut too
        }
        output.WriteLine($"PostgreSQL stopped at {stoppedAt} of {scenario.Count} checkpointed records, for 6 s");
        await RunComparison.WaitForAsync(() => Progress(store), scenario.Count, node);
        Assert.Contains("Stalled", node.Log, StringComparison.OrdinalIgnoreCase);   // the shards said so while waiting
        Assert.True(node.Terminate(TimeSpan.FromSeconds(60)), node.Log);
        Assert.True(node.ExitCode == 0, $"exit {node.ExitCode}:\n{node.Log}");

        var cleanRun = scenario.KafkaFor("clean");
        await using var cleanStore = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "clean.db") });
        await InProcessNode.RunToEndAsync(scenario, cleanRun, cleanStore, "pgdown-clean");
        await using var reopened = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await RunComparison.AssertSameAsync(scenario, cleanStore, cleanRun, reopened, run, output);
    }

    /// <summary>Checkpointed records; 0 while the server is down or the pool still holds a connection it cut.</summary>
    private static async Task<long> Progress(PostgresCheckpointStore store)
    {
        try { return await PipelineScenario.CheckpointedAsync(store); }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or System.IO.IOException) { return 0; }
    }

    /// <summary>pg_ctlcluster on the cluster scripts/ensure-postgres.sh manages (PG_VERSION/PG_CLUSTER, default 15/main).</summary>
    private static void Cluster(params string[] action)
    {
        var version = Environment.GetEnvironmentVariable("PG_VERSION") ?? "15";
        var cluster = Environment.GetEnvironmentVariable("PG_CLUSTER") ?? "main";
        var psi = new ProcessStartInfo("pg_ctlcluster") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { version, cluster, action[0] }.Concat(action.Skip(1))) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit(60_000);
        Assert.True(p.ExitCode == 0, $"pg_ctlcluster {string.Join(' ', psi.ArgumentList)} failed: {p.StandardError.ReadToEnd()}");
    }
}
