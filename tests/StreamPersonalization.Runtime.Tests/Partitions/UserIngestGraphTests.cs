using Akka.Actor;
using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Tests.Cluster;
using StreamPersonalization.Runtime.Tests.Ingest;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Storage.Sqlite;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary>
/// The whole user ingest graph on the embedded Kafka with sharded user actors and SQLite: what it publishes and stores
/// equals <see cref="UserShard"/> run over each partition's records as the broker holds them.
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class UserIngestGraphTests : Akka.TestKit.Xunit2.TestKit, IClassFixture<EmbeddedKafkaFixture>
{
    private const int Partitions = 4;
    private readonly EmbeddedKafkaFixture _kafka;
    private readonly ITestOutputHelper _output;

    public UserIngestGraphTests(EmbeddedKafkaFixture kafka, ITestOutputHelper output) : base(TestNodes.Config(), nameof(UserIngestGraphTests), output) =>
        (_kafka, _output) = (kafka, output);

    [Fact]
    public async Task Graph_GeneratedLogOnFourPartitions_PublishesAndStoresWhatUserShardGives()
    {
        var (name, outputs) = CreateTopics("ingest");
        Produce(name, RoundsScenario.Log(5, 6_000));
        var logs = ReadBack(name);

        var dir = Path.Combine(Path.GetTempPath(), "sp-ingest-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(dir, "state.db") });
            await store.InitializeAsync();
            var options = RoundsScenario.Options(null);
            var cluster = Akka.Cluster.Cluster.Get(Sys);
            await cluster.JoinAsync(cluster.SelfAddress);
            var region = await UserSharding.StartAsync(Sys, new UserActorSettings(new UserProcessor(options, RoundsScenario.Catalog), () => RoundsScenario.Experiments,
                new CheckpointStoreUserStateLoader(store), TimeSpan.FromMilliseconds(50)));
            using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = _kafka.Bootstrap, LingerMs = 2, EnableIdempotence = true }.WithJavaPartitioner()).Build();
            var committed = new ConcurrentDictionary<int, long>();
            var ingest = UserIngestGraph.Run(Sys, new UserIngestSettings(_kafka.Consumer($"{name}-group"), name, outputs, producer, store,
                new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30)), p => new PartitionRounds(p, options, experiments: true))
            {
                Partitions = new PartitionRoundsOptions { MaxRoundRecords = 200, CheckpointMaxRecords = 500, CheckpointInterval = TimeSpan.FromMilliseconds(200) },
                Source = new KafkaSourceOptions { MaxBatch = 300 },
                Committed = (p, next) => committed[p] = next,
            });

            var until = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (!logs.All(kv => kv.Value.Count == 0 || committed.GetValueOrDefault(kv.Key) == kv.Value[^1].Offset + 1))
            {
                Assert.True(DateTime.UtcNow < until, $"every partition should be checkpointed to its end: {string.Join(", ", committed.OrderBy(kv => kv.Key))}");
                await Task.Delay(100);
            }
            await ingest.DrainAsync().WaitAsync(TimeSpan.FromSeconds(60));

            var want = await AssertSameAsUserShardAsync(logs, store, outputs, options);
            _output.WriteLine($"{logs.Sum(l => l.Value.Count)} records on {Partitions} partitions, {want.Count} output records");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Graph_SecondNodeJoinsMidStream_PartitionsAndUserShardsMove_NothingLostOrTwice()
    {
        var (name, outputs) = CreateTopics("move");
        var all = RoundsScenario.Log(5, 6_000);
        Produce(name, all.Take(3_000));
        var (lostBefore, staleBefore) = (UserActor.Refusals(UserRoundRefusal.StateLost), UserActor.Refusals(UserRoundRefusal.Stale));
        var dir = Path.Combine(Path.GetTempPath(), "sp-move-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        ActorSystem? a = null, b = null;
        var running = new List<(UserIngest Ingest, IProducer<byte[], byte[]> Producer)>();
        try
        {
            await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(dir, "state.db") });
            await store.InitializeAsync();
            var options = RoundsScenario.Options(null);
            a = await TestNodes.StartAsync("a", TestNodes.Config());
            var committed = new ConcurrentDictionary<int, long>();
            var byB = new ConcurrentDictionary<int, long>();
            running.Add(await StartNodeAsync(a, store, name, outputs, options, (p, next) => committed[p] = next));
            await Eventually.UntilAsync(() => committed.Count == Partitions, null, "node a should checkpoint every partition");

            // Node b joins the cluster and the group: cooperative-sticky moves some partitions, and b places their user
            // shards on itself; actors of a that hold uncheckpointed state are handed off.
            b = await TestNodes.StartAsync("b", TestNodes.Config(seeds: [TestNodes.AddressOf(a)]));
            await TestNodes.UntilUpAsync(a, 2, TimeSpan.FromSeconds(30));
            var assignedToB = new ConcurrentDictionary<int, bool>();
            running.Add(await StartNodeAsync(b, store, name, outputs, options, (p, next) => { committed[p] = next; byB[p] = next; }, p => assignedToB[p] = true));
            await Eventually.UntilAsync(() => !assignedToB.IsEmpty, TimeSpan.FromSeconds(30), "node b should be assigned partitions");
            Produce(name, all.Skip(3_000));
            var logs = ReadBack(name);
            await Eventually.UntilAsync(() => logs.All(kv => kv.Value.Count == 0 || committed.GetValueOrDefault(kv.Key) == kv.Value[^1].Offset + 1),
                TimeSpan.FromSeconds(120), "every partition should be checkpointed to its end");
            foreach (var (ingest, _) in running) await ingest.DrainAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.NotEmpty(byB);   // b took partitions over
            _output.WriteLine($"refused: {UserRoundRefusal.StateLost} {UserActor.Refusals(UserRoundRefusal.StateLost) - lostBefore}, {UserRoundRefusal.Stale} {UserActor.Refusals(UserRoundRefusal.Stale) - staleBefore}");
            var want = await AssertSameAsUserShardAsync(logs, store, outputs, options);
            _output.WriteLine($"b checkpointed partitions {string.Join(",", byB.Keys.Order())}; {want.Count} output records");
        }
        finally
        {
            foreach (var (_, producer) in running) producer.Dispose();
            await TestNodes.ShutdownAsync(b, a);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private async Task<(UserIngest, IProducer<byte[], byte[]>)> StartNodeAsync(ActorSystem system, Core.Checkpoints.ICheckpointStore store, string topic, OutputTopics outputs,
        ShardOptions options, Action<int, long> committed, Action<int>? assigned = null)
    {
        var region = await UserSharding.StartAsync(system, new UserActorSettings(new UserProcessor(options, RoundsScenario.Catalog), () => RoundsScenario.Experiments,
            new CheckpointStoreUserStateLoader(store), TimeSpan.FromMilliseconds(50)));
        var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = _kafka.Bootstrap, LingerMs = 2, EnableIdempotence = true }.WithJavaPartitioner()).Build();
        var ingest = UserIngestGraph.Run(system, new UserIngestSettings(_kafka.Consumer($"{topic}-group"), topic, outputs, producer, store,
            new UserRoundClient(system, region, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30)), p => new PartitionRounds(p, options, experiments: true))
        {
            Partitions = new PartitionRoundsOptions { MaxRoundRecords = 200, CheckpointMaxRecords = 500, CheckpointInterval = TimeSpan.FromMilliseconds(200) },
            Source = new KafkaSourceOptions { MaxBatch = 300 },
            Committed = committed,
            Assigned = assigned,
        });
        return (ingest, producer);
    }

    /// <summary>Stored rows per partition and published records equal <see cref="UserShard"/> over each partition's log; returns the expected records.</summary>
    private async Task<List<string>> AssertSameAsUserShardAsync(Dictionary<int, List<InputRecord>> logs, Core.Checkpoints.ICheckpointStore store, OutputTopics outputs, ShardOptions options)
    {
        var expected = new List<ShardOutput>();
        foreach (var (p, log) in logs)
        {
            var (rows, shardOutputs) = Reference(p, log, options);
            expected.AddRange(shardOutputs);
            var stored = new Dictionary<string, string>(StringComparer.Ordinal);
            await foreach (var e in store.ReadEntitiesAsync("users", p)) stored[e.Key] = Convert.ToHexString(e.State);
            Assert.Equal(rows.OrderBy(kv => kv.Key, StringComparer.Ordinal), stored.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        var want = OutputRecords.Expected(expected, outputs);
        var got = OutputRecords.ReadAll(_kafka, outputs, want.Count);
        var missing = want.Except(got).ToList();
        var extra = got.Except(want).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{missing.Count} missing, e.g. {string.Join(" | ", missing.Take(2))}; {extra.Count} unexpected, e.g. {string.Join(" | ", extra.Take(2))}");
        Assert.Equal(want.Count, got.Count);   // none twice
        // Per user and topic, in the order emitted (dead letters are a set: a round lists its decode rejections first).
        foreach (var user in want.Where(w => !w.StartsWith(outputs.DeadLetter, StringComparison.Ordinal)).GroupBy(w => string.Join(' ', w.Split(' ').Take(2))))
            Assert.Equal(user.ToList(), got.Where(g => string.Join(' ', g.Split(' ').Take(2)) == user.Key).ToList());
        return want;
    }

    /// <summary>A clickstream topic of <see cref="Partitions"/> partitions and its three output topics.</summary>
    private (string Name, OutputTopics Outputs) CreateTopics(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..16];
        var outputs = new OutputTopics($"{name}-sessions", $"{name}-segment-changes", $"{name}-dead-letter");
        _kafka.Cluster.CreateTopic(name, Partitions);
        foreach (var t in new[] { outputs.Sessions, outputs.SegmentChanges, outputs.DeadLetter }) _kafka.Cluster.CreateTopic(t, 3);
        return (name, outputs);
    }

    private void Produce(string topic, IEnumerable<InputRecord> log)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = _kafka.Bootstrap, LingerMs = 5, EnableIdempotence = true }.WithJavaPartitioner()).Build();
        foreach (var r in log)
        {
            var headers = new Headers();
            foreach (var (k, v) in r.Headers ?? []) headers.Add(k, v);
            producer.Produce(topic, new Message<byte[], byte[]> { Key = r.Key!, Value = r.Value, Timestamp = new Timestamp(r.TimestampMs, TimestampType.CreateTime), Headers = headers });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Each partition's records as the broker holds them (offsets, timestamps).</summary>
    private Dictionary<int, List<InputRecord>> ReadBack(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(_kafka.Consumer($"{topic}-reader")).Build();
        var logs = Enumerable.Range(0, Partitions).ToDictionary(p => p, _ => new List<InputRecord>());
        var ends = Enumerable.Range(0, Partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (logs.Sum(l => l.Value.Count) < ends.Values.Sum() && DateTime.UtcNow < until)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) logs[r.Partition.Value].Add(r.ToInputRecord(topic));
        Assert.Equal(ends.Values.Sum(), logs.Sum(l => l.Value.Count));
        return logs;
    }

    private static (Dictionary<string, string> Rows, List<ShardOutput> Outputs) Reference(int partition, List<InputRecord> log, ShardOptions options)
    {
        var output = new ListShardOutput();
        var shard = new UserShard(partition, options, RoundsScenario.Catalog, output, experiments: RoundsScenario.Experiments);
        foreach (var r in log) shard.Process(r);
        var rows = shard.TakeDirty().Where(w => w.State is not null).ToDictionary(w => w.Key, w => Convert.ToHexString(w.State!), StringComparer.Ordinal);
        return (rows, output.Records);
    }
}
