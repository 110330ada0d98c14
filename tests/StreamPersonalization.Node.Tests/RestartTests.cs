using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Shards;
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
        var scenario = new PipelineScenario(kafka, $"restart-{name}", seed: 17, count: 48_000, users: 300);

        var cleanRun = scenario.KafkaFor("clean");
        await using var cleanStore = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "clean.db") });
        await InProcessNode.RunToEndAsync(scenario, cleanRun, cleanStore, $"restart-{name}-clean");

        var killedRun = scenario.KafkaFor("killed");
        await killedStore.InitializeAsync();
        string[] args = [
            "run", "--bootstrap", kafka.Bootstrap, "--node-id", $"killed-{name}", "--data-dir", _dir, "--log-level", "Information", "--urls", "none", .. storeArgs,
            "--set", $"Kafka:ClickstreamTopic={killedRun.ClickstreamTopic}", "--set", $"Kafka:SessionsTopic={killedRun.SessionsTopic}",
            "--set", $"Kafka:SegmentChangesTopic={killedRun.SegmentChangesTopic}", "--set", $"Kafka:DeadLetterTopic={killedRun.DeadLetterTopic}", "--set", $"Kafka:ExperimentStatsTopic={killedRun.ExperimentStatsTopic}",
            "--set", $"Kafka:ExperimentStateTopic={killedRun.ExperimentStateTopic}", "--set", $"Kafka:AlertsTopic={killedRun.AlertsTopic}", "--set", $"Node:ExperimentsGroupId=restart-{name}-experiments",
            "--set", "Kafka:ConsumerSettings:session.timeout.ms=6000", "--set", $"Node:GroupId=restart-{name}-killed",
            "--set", "Node:CheckpointInterval=00:00:00.100", "--set", "Node:CheckpointMaxRecords=500",
            "--set", "Sessions:Grace=00:00:30", "--set", "Sessions:MaxLength=01:00:00",
        ];
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
            output.WriteLine($"SIGKILL with {after} of {scenario.Count} records checkpointed");
        }
        Assert.True(midStream >= 2, $"only {midStream} of {Kills} kills happened before the end of the input");
        using (var last = NodeProcess.Start(args))
        {
            await WaitForAsync(() => PipelineScenario.CheckpointedAsync(killedStore), scenario.Count, last);
            await last.WaitForLogAsync("assigned partitions", TimeSpan.FromMinutes(1));   // running, owning its shards
            Assert.True(last.Terminate(TimeSpan.FromSeconds(60)), "the node did not stop on SIGTERM");
            Assert.True(last.ExitCode == 0, $"exit code {last.ExitCode}; log:\n{last.Log}");
        }

        // State: entities, timers, offsets, watermarks and exactly-once counters equal the run without stops.
        var cleanEntities = await ReadEntities(cleanStore);
        var killedEntities = await ReadEntities(killedStore);
        Assert.True(cleanEntities.Count >= 290, $"expected ~300 users, found {cleanEntities.Count}");
        Assert.Equal(cleanEntities.Count, killedEntities.Count);
        foreach (var (c, k) in cleanEntities.Zip(killedEntities))
        {
            Assert.Equal((c.Partition, c.Key, c.NextTimerMs), (k.Partition, k.Key, k.NextTimerMs));
            Assert.True(c.State.AsSpan().SequenceEqual(k.State), $"state of {c.Key} differs from the run without stops");
        }
        var cleanCheckpoints = await cleanStore.LoadCheckpointsAsync(ShardRunner.Scope);
        var killedCheckpoints = await killedStore.LoadCheckpointsAsync(ShardRunner.Scope);
        Assert.Equal(cleanCheckpoints.Select(c => (c.Partition, c.NextOffset, c.WatermarkMs)), killedCheckpoints.Select(c => (c.Partition, c.NextOffset, c.WatermarkMs)));
        // Exactly-once counters (the shard state also holds experiment range ends, which follow checkpoint timing).
        Assert.Equal(cleanCheckpoints.Select(Counters), killedCheckpoints.Select(Counters));

        // Outputs: at-least-once, identical after de-duplication by record id, and equal to the reference.
        var reference = scenario.Reference();
        var killedOutputs = scenario.Outputs(killedRun, out var killedDeadLetters, out var duplicates);
        output.WriteLine($"{duplicates} duplicate output records (same id, same content) after {Kills} kills");
        OutputAssert.Same(reference.Outputs, killedOutputs);
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), killedDeadLetters.OrderBy(kv => kv.Key));

        // Experiment deltas: committed with the checkpoints, relayed at least once, applied once per range.
        PipelineScenario.AssertSameExperimentTotals(scenario.ExperimentTotals(cleanRun), scenario.ExperimentTotals(killedRun));
    }

    private static string Counters(PartitionCheckpoint c)
    {
        var shard = new Core.Shards.UserShard(c.Partition, PipelineScenario.ShardOptions, PipelineScenario.Catalog, new Core.Shards.ListShardOutput());
        shard.RestoreShardState(c.ShardState);
        return $"p{c.Partition} wm={shard.WatermarkMs} {shard.Counters} rejected=[{string.Join(",", shard.Counters.Rejected)}]";
    }

    private static async Task<List<StoredEntity>> ReadEntities(ICheckpointStore store)
    {
        var list = new List<StoredEntity>();
        await foreach (var e in store.ReadEntitiesAsync(ShardRunner.Scope)) list.Add(e);
        return list;
    }

    private static async Task WaitForAsync(Func<Task<long>> progress, long target, NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await progress() < target)
        {
            if (node.HasExited) throw new InvalidOperationException($"node exited with {node.ExitCode}:\n{node.Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"checkpointed {await progress()} of {target}; node log:\n{node.Log}");
            await Task.Delay(20);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
