using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
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
        PipelineScenario.AssertSameOutputs(expected.Outputs, actual);
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        Assert.Contains(deadLetters.Values, r => r == "late_event");
        Assert.Equal(scenario.Count, await PipelineScenario.CheckpointedAsync(store));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>Runs a node in this process until its checkpoints cover the whole input, then stops it gracefully.</summary>
public static class InProcessNode
{
    public static async Task RunToEndAsync(PipelineScenario scenario, KafkaOptions run, ICheckpointStore store, string group)
    {
        var node = new StreamNode(new NodeOptions { NodeId = group, GroupId = group, CheckpointInterval = TimeSpan.FromMilliseconds(200) },
            run, PipelineScenario.ShardOptions, PipelineScenario.Catalog, store, new KafkaClientFactory(run), NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);
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
