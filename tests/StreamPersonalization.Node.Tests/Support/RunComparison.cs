using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Shards;
using StreamPersonalization.Tests.Reference;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>
/// Node processes over a <see cref="PipelineScenario"/> and the comparison every fault test ends with: the faulty
/// run's stored state equals a fault-free run's byte for byte, and its de-duplicated outputs equal the reference.
/// </summary>
public static class RunComparison
{
    /// <summary>Arguments of <c>sp run</c> for one node of a faulty run (topics of <paramref name="run"/>, short checkpoints).</summary>
    public static string[] NodeArgs(KafkaFixture kafka, KafkaOptions run, string nodeId, string group, string dataDir, IEnumerable<string> storeArgs) =>
    [
        "run", "--bootstrap", kafka.Bootstrap, "--node-id", nodeId, "--data-dir", dataDir, "--log-level", "Information", "--urls", "none", .. storeArgs,
        "--set", $"Kafka:ClickstreamTopic={run.ClickstreamTopic}", "--set", $"Kafka:SessionsTopic={run.SessionsTopic}",
        "--set", $"Kafka:SegmentChangesTopic={run.SegmentChangesTopic}", "--set", $"Kafka:DeadLetterTopic={run.DeadLetterTopic}", "--set", $"Kafka:ExperimentStatsTopic={run.ExperimentStatsTopic}",
        "--set", $"Kafka:ExperimentStateTopic={run.ExperimentStateTopic}", "--set", $"Kafka:AlertsTopic={run.AlertsTopic}", "--set", $"Node:ExperimentsGroupId={group}-experiments",
        "--set", "Kafka:SessionTimeout=00:00:06", "--set", $"Node:GroupId={group}",
        "--set", "Node:CheckpointInterval=00:00:00.100", "--set", "Node:CheckpointMaxRecords=500",
        "--set", "Sessions:Grace=00:00:30", "--set", "Sessions:MaxLength=01:00:00",
        // The clean run and the reference model work on raw ids with every property unread.
        "--set", "Privacy:Pseudonymize=false", "--set", "Privacy:Properties:Enabled=false", "--set", "Privacy:RetentionDays=0",
    ];

    /// <summary>Waits until <paramref name="progress"/> reaches <paramref name="target"/>, failing if any node exits or 3 minutes pass.</summary>
    public static async Task WaitForAsync(Func<Task<long>> progress, long target, params NodeProcess[] nodes)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await progress() < target)
        {
            foreach (var node in nodes)
                if (node.HasExited) throw new InvalidOperationException($"node exited with {node.ExitCode}:\n{node.Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"checkpointed {await progress()} of {target}; node logs:\n{string.Join("\n-----\n", nodes.Select(n => n.Log))}");
            await Task.Delay(20);
        }
    }

    /// <summary>Runs the scenario once more through one fault-free in-process node (SQLite under <paramref name="dir"/>,
    /// consumer group <paramref name="group"/>) and asserts the faulty run equals it (<see cref="AssertSameAsync"/>).</summary>
    public static async Task AssertSameAsFaultFreeNodeAsync(PipelineScenario scenario, ICheckpointStore faultyStore, KafkaOptions faultyRun,
        string dir, string group, ITestOutputHelper output)
    {
        var cleanRun = scenario.KafkaFor("clean");
        await using var cleanStore = new Storage.Sqlite.SqliteCheckpointStore(new Storage.Sqlite.SqliteStoreOptions { Path = Path.Combine(dir, $"{group}.db") });
        await InProcessNode.RunToEndAsync(scenario, cleanRun, cleanStore, group);
        await AssertSameAsync(scenario, cleanStore, cleanRun, faultyStore, faultyRun, output);
    }

    /// <summary>Asserts state, checkpoints, counters, outputs, dead letters and experiment totals of the faulty run equal the clean run's and the reference's.</summary>
    public static async Task AssertSameAsync(PipelineScenario scenario, ICheckpointStore cleanStore, KafkaOptions cleanRun, ICheckpointStore faultyStore, KafkaOptions faultyRun, ITestOutputHelper output)
    {
        var cleanEntities = await ReadEntities(cleanStore);
        var faultyEntities = await ReadEntities(faultyStore);
        Assert.True(cleanEntities.Count >= 290, $"expected ~300 users, found {cleanEntities.Count}");
        Assert.Equal(cleanEntities.Count, faultyEntities.Count);
        foreach (var (c, k) in cleanEntities.Zip(faultyEntities))
        {
            Assert.Equal((c.Partition, c.Key, c.NextTimerMs), (k.Partition, k.Key, k.NextTimerMs));
            Assert.True(c.State.AsSpan().SequenceEqual(k.State), $"state of {c.Key} differs from the run without faults");
        }
        var cleanCheckpoints = await cleanStore.LoadCheckpointsAsync(StreamNode.Scope);
        var faultyCheckpoints = await faultyStore.LoadCheckpointsAsync(StreamNode.Scope);
        Assert.Equal(cleanCheckpoints.Select(c => (c.Partition, c.NextOffset, c.WatermarkMs)), faultyCheckpoints.Select(c => (c.Partition, c.NextOffset, c.WatermarkMs)));
        // Exactly-once counters (the shard state also holds experiment range ends, which follow checkpoint timing).
        Assert.Equal(cleanCheckpoints.Select(Counters), faultyCheckpoints.Select(Counters));

        // Outputs: at-least-once, identical after de-duplication by record id, and equal to the reference.
        var reference = scenario.Reference();
        var outputs = scenario.Outputs(faultyRun, out var deadLetters, out var duplicates);
        output.WriteLine($"{duplicates} duplicate output records (same id, same content)");
        OutputAssert.Same(reference.Outputs, outputs);
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));

        // Experiment deltas: committed with the checkpoints, relayed at least once, applied once per range.
        PipelineScenario.AssertSameExperimentTotals(scenario.ExperimentTotals(cleanRun), scenario.ExperimentTotals(faultyRun));
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
        await foreach (var e in store.ReadEntitiesAsync(StreamNode.Scope)) list.Add(e);
        return list;
    }
}
