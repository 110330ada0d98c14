using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Tests.Reference;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Exactly-once state across crashes: a node process is SIGKILLed at several points while consuming and
/// restarted each time; at the end its stored per-user state, offsets and counters equal those of a run
/// with no stops (byte for byte), and its outputs, de-duplicated by record id, equal the reference model's.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class RestartTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private const int Kills = 3;
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-restart-").FullName;

    [Fact]
    public async Task KilledNode_Sqlite_EndsInSameStateAsRunWithoutStops()
    {
        var path = Path.Combine(_dir, "killed.db");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await RunAsync("sqlite", store, ["--store", "sqlite", "--set", $"Storage:Sqlite:Path={path}"]);
    }

    [Fact]
    public async Task KilledNode_Postgres_EndsInSameStateAsRunWithoutStops()
    {
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await RunAsync("postgres", store, ["--store", "postgres", "--postgres", pg.ConnectionString]);
    }

    private async Task RunAsync(string name, ICheckpointStore killedStore, string[] storeArgs)
    {
        // The input arrives in steps, one more after each kill, so the first kills land mid-stream however fast the node is.
        var scenario = new PipelineScenario(kafka, $"restart-{name}", seed: 17, count: 48_000, users: 300, produceNow: 12_000);

        var killedRun = scenario.KafkaFor("killed");
        await killedStore.InitializeAsync();
        var args = RunComparison.NodeArgs(kafka, killedRun, $"killed-{name}", $"restart-{name}-killed", _dir, storeArgs);
        // Each incarnation is killed a seeded random moment after its first checkpoint, i.e. mid-stream.
        var random = new Random(23);
        var midStream = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            var before = await PipelineScenario.CheckpointedAsync(killedStore);
            if (before >= scenario.Count) break;
            using var node = NodeProcess.Start(args);
            await WaitForAsync(() => PipelineScenario.CheckpointedAsync(killedStore), before + 1, node);
            await Task.Delay(random.Next(0, 40));
            node.Kill();
            var after = await PipelineScenario.CheckpointedAsync(killedStore);
            if (after < scenario.Count) midStream++;
            output.WriteLine($"SIGKILL with {after} of {scenario.Count} records checkpointed ({scenario.Produced} produced)");
            scenario.ProduceMore(12_000);
        }
        Assert.True(midStream >= 2, $"only {midStream} of {Kills} kills happened before the end of the input");
        scenario.ProduceRest();
        using (var last = NodeProcess.Start(args))
        {
            await WaitForAsync(() => PipelineScenario.CheckpointedAsync(killedStore), scenario.Count, last);
            await last.WaitForLogAsync("assigned partitions", TimeSpan.FromMinutes(1));   // running, owning its shards
            Assert.True(last.Terminate(TimeSpan.FromSeconds(60)), "the node did not stop on SIGTERM");
            Assert.True(last.ExitCode == 0, $"exit code {last.ExitCode}; log:\n{last.Log}");
        }

        await RunComparison.AssertSameAsFaultFreeNodeAsync(scenario, killedStore, killedRun, _dir, $"restart-{name}-clean", output);
    }

    private static Task WaitForAsync(Func<Task<long>> progress, long target, NodeProcess node) => RunComparison.WaitForAsync(progress, target, node);

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
