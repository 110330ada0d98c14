using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Tests.Reference;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// The whole user stage on embedded Kafka: a generated log goes in; the sessions, segment transitions
/// and dead letters that come out equal those of the independent reference model over the same log.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class PipelineEndToEndTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-e2e-").FullName;

    [Fact]
    public async Task Node_GeneratedLog_OutputsEqualReferenceModel()
    {
        var scenario = new PipelineScenario(kafka, "e2e", seed: 5, count: 30_000, users: 250);
        var run = scenario.KafkaFor("clean");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "clean.db") });
        await InProcessNode.RunToEndAsync(scenario, run, store, "e2e-clean");

        var expected = scenario.Reference();
        var actual = scenario.Outputs(run, out var deadLetters, out var duplicates);
        Assert.True(expected.Outputs.Values.Sum(v => v.Count) > 3_000, "the scenario should produce many outputs");
        Assert.Contains(expected.Outputs.Values.SelectMany(v => v), o => o.EndsWith(" reevaluation"));
        Assert.Equal(0, duplicates);
        OutputAssert.Same(expected.Outputs, actual);
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        Assert.Contains(deadLetters.Values, r => r == "late_event");
        Assert.Equal(scenario.Count, await PipelineScenario.CheckpointedAsync(store));
        // Experiment deltas went through the checkpoint outbox and the relay to experiment-stats, each range once.
        PipelineScenario.AssertSameExperimentTotals(scenario.ExpectedExperimentTotals(), scenario.ExperimentTotals(run));
    }

    [Fact]
    public async Task ExperimentStage_PublishesSnapshotsWhoseCountsEqualTheDeltas()
    {
        var scenario = new PipelineScenario(kafka, "xstage", seed: 12, count: 20_000, users: 300);
        var run = scenario.KafkaFor("xstage");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "xstage.db") });
        var stage = new ExperimentStage(new NodeOptions { NodeId = "xstage", GroupId = "xstage-users", ExperimentsGroupId = "xstage-exp" },
            new ExperimentOptions { SnapshotInterval = TimeSpan.FromMilliseconds(200) }, run, new ExperimentCatalogSource(PipelineScenario.Experiments), store, new KafkaClientFactory(run), NullLoggerFactory.Instance);
        using var stopStage = new CancellationTokenSource();
        var staging = stage.RunAsync(stopStage.Token);
        await InProcessNode.RunToEndAsync(scenario, run, store, "xstage-users");
        var expected = scenario.ExpectedExperimentTotals()["exp-checkout-1"];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        System.Text.Json.JsonElement latest = default;
        while (true)
        {
            var snapshots = TopicReader.ReadAll(kafka.Bootstrap, run.ExperimentStateTopic, PipelineScenario.Partitions)
                .Where(r => System.Text.Encoding.UTF8.GetString(r.Message.Key) == "exp-checkout-1").ToList();
            if (snapshots.Count > 0)
            {
                latest = System.Text.Json.JsonDocument.Parse(snapshots.OrderBy(r => r.Offset.Value).Last().Message.Value).RootElement.Clone();
                var users = latest.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("users").GetInt64());
                if (users == expected.Arms.Sum(a => a.Users)) break;
            }
            if (staging.IsCompleted) await staging;
            Assert.True(DateTime.UtcNow < deadline, $"snapshot never reached the expected counts; latest: {latest}");
            await Task.Delay(200);
        }
        stopStage.Cancel();
        await staging;
        foreach (var arm in latest.GetProperty("arms").EnumerateArray())
        {
            var variant = arm.GetProperty("variantId").GetString()!;
            Assert.Equal(expected.Arm(variant).Users, arm.GetProperty("users").GetInt64());
            Assert.Equal(expected.Arm(variant).Conversions, arm.GetProperty("conversions").GetInt64());
        }
        Assert.Equal(1, latest.GetProperty("schema").GetInt32());
        Assert.True(stage.SnapshotsPublished > 0);
    }

    [Fact]
    public async Task SecondNodeJoinsMidStream_PartitionsHandOverAndOutputsEqualReference()
    {
        var scenario = new PipelineScenario(kafka, "handover", seed: 9, count: 36_000, users: 250, produceNow: 18_000);
        var run = scenario.KafkaFor("two-nodes");
        var path = Path.Combine(_dir, "shared.db");
        await using var storeA = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await using var storeB = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });   // two nodes, one database
        var (nodeA, stopA, runningA) = InProcessNode.Start(run, storeA, "handover", "node-a");
        await storeA.InitializeAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await PipelineScenario.CheckpointedAsync(storeA) < 18_000)
        {
            if (runningA.IsCompleted) await runningA;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("node A did not process the first half");
            await Task.Delay(20);
        }
        // Node B joins: cooperative-sticky moves some partitions to it; A checkpoints and stops them, B resumes
        // from the shared store. The second half of the log then flows through both nodes.
        var (nodeB, stopB, runningB) = InProcessNode.Start(run, storeB, "handover", "node-b");
        while (nodeB.Shards.Count == 0)
        {
            if (runningB.IsCompleted) await runningB;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("node B got no partitions");
            await Task.Delay(20);
        }
        scenario.ProduceRest();
        while (await PipelineScenario.CheckpointedAsync(storeA) < scenario.Count)
        {
            if (runningA.IsCompleted) await runningA;
            if (runningB.IsCompleted) await runningB;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"B owns {nodeB.Shards.Count} shards; {await PipelineScenario.CheckpointedAsync(storeA)} of {scenario.Count} checkpointed");
            await Task.Delay(50);
        }
        var ownedByA = nodeA.Shards.Select(s => s.Partition).ToHashSet();
        var ownedByB = nodeB.Shards.Select(s => s.Partition).ToHashSet();
        stopA.Cancel(); stopB.Cancel();
        await Task.WhenAll(runningA, runningB);

        Assert.NotEmpty(ownedByA);
        Assert.NotEmpty(ownedByB);
        Assert.Empty(ownedByA.Intersect(ownedByB));
        var expected = scenario.Reference();
        OutputAssert.Same(expected.Outputs, scenario.Outputs(run, out var deadLetters, out _));
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>Runs a node in this process until its checkpoints cover the whole input, then stops it gracefully.</summary>
public static class InProcessNode
{
    public static (StreamNode Node, CancellationTokenSource Stop, Task Running) Start(KafkaOptions run, ICheckpointStore store, string group, string nodeId)
    {
        var node = new StreamNode(new NodeOptions { NodeId = nodeId, GroupId = group, CheckpointInterval = TimeSpan.FromMilliseconds(200) },
            run, PipelineScenario.ShardOptions, PipelineScenario.Catalog, store, new KafkaClientFactory(run), NullLoggerFactory.Instance,
            experiments: PipelineScenario.Experiments);
        var stop = new CancellationTokenSource();
        return (node, stop, node.RunAsync(stop.Token));
    }

    public static async Task RunToEndAsync(PipelineScenario scenario, KafkaOptions run, ICheckpointStore store, string group)
    {
        var (_, stop, running) = Start(run, store, group, group);
        await store.InitializeAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await PipelineScenario.CheckpointedAsync(store) < scenario.Count)
        {
            if (running.IsCompleted) await running;   // surfaces a crash of the node
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node checkpointed {await PipelineScenario.CheckpointedAsync(store)} of {scenario.Count} records");
            await Task.Delay(100);
        }
        stop.Cancel();
        await running;
    }
}
