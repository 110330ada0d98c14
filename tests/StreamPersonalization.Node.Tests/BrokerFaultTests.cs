using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Broker faults on a 3-broker embedded cluster while a node consumes: a broker down for seconds, and retriable
/// errors injected into the node's Produce, Fetch and OffsetCommit requests. Partition leaders (and the group
/// coordinator) are pinned so each fault hits known partitions, and every injected error is checked to have been
/// consumed by the node's requests. Each faulty run must end in the same stored state as a fault-free run (byte for
/// byte) with de-duplicated outputs equal to the reference model's (<see cref="RunComparison.AssertSameAsync"/>).
/// </summary>
[Collection(KafkaCollection.Name)]   // serial with the other pipeline tests: they share two cores
public sealed class BrokerFaultTests(ThreeBrokerKafkaFixture kafka, ITestOutputHelper output) : IClassFixture<ThreeBrokerKafkaFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-broker-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task BrokerErrorInjection_IsConsumedByRequestsToThatBrokerAndRetriedOnce()
    {
        var topic = "pinned-" + Guid.NewGuid().ToString("N")[..8];
        kafka.Cluster.CreateTopic(topic, 3);
        for (var p = 0; p < 3; p++) kafka.Cluster.SetPartitionLeader(topic, p, p + 1);
        Assert.Equal(new Dictionary<int, int> { [0] = 1, [1] = 2, [2] = 3 }, kafka.Leaders(topic));

        kafka.Cluster.PushBrokerRequestErrors(2, KafkaApiKey.Produce, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas);
        Assert.Equal(3, kafka.Cluster.PendingBrokerRequestErrors(2, KafkaApiKey.Produce));
        Assert.Equal(0, kafka.Cluster.PendingBrokerRequestErrors(1, KafkaApiKey.Produce));
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, EnableIdempotence = true }.WithJavaPartitioner()).Build())
        {
            var result = await producer.ProduceAsync(new TopicPartition(topic, 1), new Message<Null, string> { Value = "x" });
            Assert.Equal(0, result.Offset.Value);   // delivered once, after three failed attempts
        }
        Assert.Equal(0, kafka.Cluster.PendingBrokerRequestErrors(2, KafkaApiKey.Produce));
        Assert.Equal([0L, 1L, 0L], kafka.LogEnds(topic, partitions: 3));
    }

    [Fact]
    public async Task BrokerDown_ForSecondsMidRun_OtherBrokersPartitionsContinueAndAllCatchUp_SameStateAsCleanRun()
    {
        // The coordinator stays up (a real cluster would move it within seconds; the mock cannot): the node keeps its
        // partitions, processes those on the healthy brokers and waits for the others.
        var (node, atStart, atEnd, _) = await RunBrokerOutageAsync("broker-down", coordinator: 1, TimeSpan.FromSeconds(5),
            (n, start, _) => HealthyPartitionsProgressed(n.Shards.ToDictionary(r => r.Partition, r => r.NextOffset), start));
        Assert.True(HealthyPartitionsProgressed(atEnd, atStart), $"healthy partitions were not processed on during the outage: at start [{string.Join(",", atStart.OrderBy(kv => kv.Key))}], at end [{string.Join(",", atEnd.OrderBy(kv => kv.Key))}]");
        Assert.False(node.HadFailures, "a broker outage is waited out, no shard is failed or restarted");
    }

    [Fact]
    public async Task CoordinatorBrokerDown_LongerThanSessionTimeout_PartitionsLostThenRegained_SameStateAsCleanRun()
    {
        // Down longer than session.timeout.ms (6 s here): the client gives its partitions up as lost (shards stop without
        // a checkpoint) and rejoins once the coordinator answers; the new shards resume from the stored checkpoints.
        var (_, _, _, lostAssignment) = await RunBrokerOutageAsync("coordinator-down", coordinator: DownBroker, TimeSpan.FromSeconds(8), (_, _, lost) => lost);
        Assert.True(lostAssignment, "the node should have lost its partitions while its coordinator was unreachable");
    }

    private const int DownBroker = 2;
    private static readonly int[] OnDownBroker = [1, 4];

    /// <summary>An outage lasts at least its nominal length and, on a slow machine, until what the test watches for happened (at most this long).</summary>
    private static readonly TimeSpan MaxOutage = TimeSpan.FromSeconds(60);

    private static bool HealthyPartitionsProgressed(Dictionary<int, long> now, Dictionary<int, long> atStart) =>
        Enumerable.Range(0, PipelineScenario.Partitions).Except(OnDownBroker).All(p => now.GetValueOrDefault(p) > atStart.GetValueOrDefault(p));

    /// <summary>
    /// A node consumes a scenario on pinned leaders (partition p of every topic on broker p % 3 + 1, so broker 2 leads
    /// partitions 1 and 4 of input and outputs); mid-stream broker 2 goes down for <paramref name="outage"/> while the
    /// rest of the input arrives (records for its partitions wait in the upstream producer; the node cannot fetch from
    /// it or deliver outputs to it), and longer if <paramref name="over"/> (node, offsets at start, assignment lost so far)
    /// is not yet true, up to <see cref="MaxOutage"/>: a slow machine gets the time, the test's assertion still decides.
    /// Afterwards the run must finish and equal a clean run.
    /// </summary>
    /// <returns>The node, each shard's processed offset when the outage began and ended, and whether the node owned no
    /// partition at some moment of the outage.</returns>
    private async Task<(StreamNode Node, Dictionary<int, long> AtStart, Dictionary<int, long> AtEnd, bool LostAssignment)> RunBrokerOutageAsync(string name, int coordinator, TimeSpan outage,
        Func<StreamNode, Dictionary<int, long>, bool, bool> over)
    {
        var scenario = new PipelineScenario(kafka, name, seed: 61, count: 30_000, users: 320, produceNow: 10_000);
        var run = scenario.KafkaFor("faulty");
        kafka.PinLeaders(scenario, run, (_, p) => p % ThreeBrokerKafkaFixture.Brokers + 1);
        kafka.Cluster.SetGroupCoordinator(name, coordinator);

        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, $"{name}.db") });
        var (node, stop, running) = InProcessNode.Start(run, store, name, name);
        await store.InitializeAsync();
        await WaitForAsync(() => PipelineScenario.CheckpointedAsync(store), 3_000, running);

        kafka.Cluster.SetBrokerDown(DownBroker);
        var outageStarted = DateTime.UtcNow;
        var atStart = node.Shards.ToDictionary(r => r.Partition, r => r.NextOffset);
        var producing = Task.Run(scenario.ProduceRest);
        var lostAssignment = false;
        while (DateTime.UtcNow - outageStarted < outage || (!over(node, atStart, lostAssignment) && DateTime.UtcNow - outageStarted < MaxOutage))
        {
            if (running.IsCompleted) await running;
            Assert.Equal(0, node.FailedShards);
            lostAssignment |= node.Shards.Count == 0;
            await Task.Delay(50);
        }
        var atEnd = node.Shards.ToDictionary(r => r.Partition, r => r.NextOffset);
        var lasted = DateTime.UtcNow - outageStarted;
        kafka.Cluster.SetBrokerUp(DownBroker);
        await producing;
        output.WriteLine($"processed at outage start [{string.Join(",", atStart.OrderBy(kv => kv.Key))}], at its end [{string.Join(",", atEnd.OrderBy(kv => kv.Key))}]");

        await WaitForAsync(() => PipelineScenario.CheckpointedAsync(store), scenario.Count, running);
        output.WriteLine($"caught up {(DateTime.UtcNow - outageStarted).TotalSeconds:F1} s after broker {DownBroker} went down for {lasted.TotalSeconds:F1} s");
        stop.Cancel();
        await running;

        await CompareWithCleanRunAsync(scenario, store, run, name);
        return (node, atStart, atEnd, lostAssignment);
    }

    public static TheoryData<KafkaApiKey> RequestKinds => new() { KafkaApiKey.Produce, KafkaApiKey.Fetch, KafkaApiKey.OffsetCommit };

    /// <summary>
    /// Retriable errors the client must ride out, per request kind: leadership moved or not available, a timed-out
    /// request, too few in-sync replicas, a dropped connection (<see cref="ErrorCode.Local_Transport"/>), a coordinator
    /// that moved or is loading.
    /// </summary>
    private static ErrorCode[] InjectedErrors(KafkaApiKey api) => api switch
    {
        KafkaApiKey.Produce => [ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicasAfterAppend, ErrorCode.LeaderNotAvailable, ErrorCode.Local_Transport],
        KafkaApiKey.Fetch => [ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.LeaderNotAvailable, ErrorCode.KafkaStorageError, ErrorCode.Local_Transport],
        KafkaApiKey.OffsetCommit => [ErrorCode.RequestTimedOut, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.GroupLoadInProgress],
        _ => throw new ArgumentOutOfRangeException(nameof(api), api, "no injected errors defined"),
    };

    [Theory]
    [MemberData(nameof(RequestKinds))]
    public async Task InjectedRequestErrors_MidRun_RetriedWithoutLossOrDuplicateState(KafkaApiKey api)
    {
        var name = $"errors-{api.ToString().ToLowerInvariant()}";
        var scenario = new PipelineScenario(kafka, name, seed: 70 + (int)api, count: 30_000, users: 320, produceNow: 10_000);
        var run = scenario.KafkaFor("faulty");
        // Input on broker 1, outputs on brokers 2 and 3, coordinator on broker 3: the test's own producer (broker 1)
        // never meets the injected Produce errors, and only the node fetches from broker 1 or commits to broker 3.
        kafka.PinLeaders(scenario, run, (isInput, p) => isInput ? 1 : p % 2 + 2);
        kafka.Cluster.SetGroupCoordinator(name, 3);
        int[] targets = api switch { KafkaApiKey.Produce => [2, 3], KafkaApiKey.Fetch => [1], _ => [3] };

        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, $"{name}.db") });
        var (node, stop, running) = InProcessNode.Start(run, store, name, name);
        await store.InitializeAsync();
        await WaitForAsync(() => PipelineScenario.CheckpointedAsync(store), 3_000, running);

        // Mid-stream: errors queued on the target brokers, then the rest of the input arrives.
        var errors = InjectedErrors(api);
        foreach (var broker in targets) kafka.Cluster.PushBrokerRequestErrors(broker, api, errors);
        scenario.ProduceRest();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (targets.Sum(b => kafka.Cluster.PendingBrokerRequestErrors(b, api)) > 0)
        {
            if (running.IsCompleted) await running;
            Assert.True(DateTime.UtcNow < deadline, $"{targets.Sum(b => kafka.Cluster.PendingBrokerRequestErrors(b, api))} injected {api} errors were never consumed " +
                $"({await PipelineScenario.CheckpointedAsync(store)} of {scenario.Count} checkpointed)");
            await Task.Delay(20);
        }
        var checkpointedWhenConsumed = await PipelineScenario.CheckpointedAsync(store);
        output.WriteLine($"{errors.Length * targets.Length} {api} errors consumed with {checkpointedWhenConsumed} of {scenario.Count} records checkpointed");

        await WaitForAsync(() => PipelineScenario.CheckpointedAsync(store), scenario.Count, running);
        Assert.False(node.HadFailures, "retriable broker errors must not fail a shard");
        if (api == KafkaApiKey.OffsetCommit)
        {
            // Kafka's committed offsets are only for lag monitoring, but after the errors they must catch up with the store.
            var stored = await ThreeBrokerKafkaFixture.CheckpointOffsetsAsync(store);
            await UntilCommittedAsync(name, scenario.Input, stored, running);
        }
        stop.Cancel();
        await running;

        await CompareWithCleanRunAsync(scenario, store, run, name);
    }

    private async Task CompareWithCleanRunAsync(PipelineScenario scenario, SqliteCheckpointStore faultyStore, Node.Kafka.KafkaOptions faultyRun, string name)
    {
        await RunComparison.AssertSameAsFaultFreeNodeAsync(scenario, faultyStore, faultyRun, _dir, $"{name}-clean", output);
    }

    /// <summary>Waits until the group's committed offsets in Kafka equal <paramref name="expected"/> per partition.</summary>
    private async Task UntilCommittedAsync(string group, string topic, long[] expected, Task running)
    {
        using var probe = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.Bootstrap, GroupId = group }).Build();
        var partitions = Enumerable.Range(0, expected.Length).Select(p => new TopicPartition(topic, p)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (running.IsCompleted) await running;
            var committed = probe.Committed(partitions, TimeSpan.FromSeconds(10)).OrderBy(c => c.Partition.Value).Select(c => c.Offset.Value).ToArray();
            if (committed.SequenceEqual(expected)) return;
            Assert.True(DateTime.UtcNow < deadline, $"committed [{string.Join(",", committed)}] never reached the stored offsets [{string.Join(",", expected)}]");
            await Task.Delay(200);
        }
    }

    private static async Task WaitForAsync(Func<Task<long>> progress, long target, Task running)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);   // reconnect back-off + the mock's rebalance rounds, on a slow machine
        while (await progress() < target)
        {
            if (running.IsCompleted) await running;   // surfaces a crash of the node
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"checkpointed {await progress()} of {target}");
            await Task.Delay(50);
        }
    }
}
