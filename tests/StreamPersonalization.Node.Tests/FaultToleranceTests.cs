using StreamPersonalization.Kafka;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Hostile input and poison records through a node on the embedded Kafka: every malformed record reaches dead-letter
/// with the reason the generator labelled it with, nothing crashes, and the valid outputs equal the reference model's.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class FaultToleranceTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-faults-").FullName;

    private static StreamNode Node(KafkaOptions run, ICheckpointStore store, string group, ShardOptions options) =>
        new(new NodeOptions { NodeId = group, GroupId = group, CheckpointInterval = TimeSpan.FromMilliseconds(200) },
            run, options, PipelineScenario.Catalog, store, new KafkaClientFactory(run), NullLoggerFactory.Instance);

    /// <summary>Runs the node until its checkpoints cover the whole input, then stops it; the node must not have failed.</summary>
    private static async Task RunToEndAsync(StreamNode node, PipelineScenario scenario, ICheckpointStore store)
    {
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);
        await store.InitializeAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await PipelineScenario.CheckpointedAsync(store) < scenario.Count)
        {
            if (running.IsCompleted) await running;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node checkpointed {await PipelineScenario.CheckpointedAsync(store)} of {scenario.Count} records");
            await Task.Delay(100);
        }
        Assert.False(node.HadFailures, "no shard may fail or restart");
        stop.Cancel();
        await running;
    }

    [Fact]
    public async Task HostileCorpus_ThroughNode_DeadLettersEachByItsLabelAndValidOutputsEqualReference()
    {
        var corpus = new HostileCorpusGenerator(new HostileCorpusOptions
        {
            Traffic = new ClickstreamGeneratorOptions { Seed = 91, Users = 200 },
            ValidRecords = 12_000,
            HostileRecords = 10_400,   // ~2.5 % of the kinds are odd but valid: ≥ 10,000 malformed
        }).Generate().ToList();
        var options = new ShardOptions();   // grace 5 min: the corpus's labels assume at least 2
        var scenario = new PipelineScenario(kafka, "hostile", corpus.Select(r => r.Record), options);
        var run = scenario.KafkaFor("hostile");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "hostile.db") });
        var node = Node(run, store, "hostile", options);
        await RunToEndAsync(node, scenario, store);

        var expected = scenario.Reference();
        var actual = scenario.Outputs(run, out var deadLetters, out var duplicates);
        Assert.Equal(0, duplicates);
        OutputAssert.Same(expected.Outputs, actual);
        Assert.True(expected.Outputs.Values.Sum(v => v.Count) > 1_000, "the valid traffic should produce plenty of outputs");
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        // Counted by reason, the dead letters are exactly the generator's labels.
        var labelled = corpus.Where(r => r.Expected is not null).GroupBy(r => r.Expected!.Value.Code()).ToDictionary(g => g.Key, g => g.Count());
        var dead = deadLetters.Values.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(labelled.Sum(kv => kv.Value) >= 10_000, $"{labelled.Sum(kv => kv.Value)} malformed records");
        Assert.Equal(labelled.OrderBy(kv => kv.Key), dead.OrderBy(kv => kv.Key));
        Assert.Equal(10, labelled.Count);   // every reason but processing_error occurs
        // The counters checkpointed with the offsets agree.
        var counted = new long[Enum.GetValues<RejectReason>().Max(r => (int)r) + 1];
        foreach (var c in await store.LoadCheckpointsAsync(StreamNode.Scope))
        {
            var shard = new UserShard(c.Partition, options, PipelineScenario.Catalog, new ListShardOutput());
            shard.RestoreShardState(c.ShardState);
            for (var i = 0; i < counted.Length; i++) counted[i] += shard.Counters.Rejected[i];
        }
        foreach (var (reason, count) in labelled) Assert.Equal(count, counted[(int)Enum.GetValues<RejectReason>().Single(r => r.Code() == reason)]);
    }

    [Fact]
    public async Task PoisonRecords_ThroughNode_DeadLetteredWithTheExceptionAndTheUsersEventsContinue()
    {
        var scenario = new PipelineScenario(kafka, "poison", seed: 31, count: 20_000, users: 200);
        // Every 397th accepted event (in log order, so the choice is the same on every run) makes entity code throw
        // (the test seam; off in production). Records the clean reference rejects (late, duplicate) are not
        // candidates: the engine rejects those before entity code runs, so they could never be poison.
        var decoder = new EventDecoder(new DecoderOptions());
        var baseline = scenario.Reference();
        var poisonIds = new HashSet<string>();
        var n = 0;
        foreach (var r in TopicReader.ReadAll(kafka.Bootstrap, scenario.Input, PipelineScenario.Partitions).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value))
        {
            var d = decoder.Decode(r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs, "x");
            if (d.IsValid && !baseline.DeadLetters.ContainsKey((r.Partition.Value, r.Offset.Value)) && ++n % 397 == 0) poisonIds.Add(d.Event!.EventId);
        }
        bool IsPoison(ConsumeResult<byte[], byte[]> r)
        {
            var d = decoder.Decode(r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs, "x");
            return d.IsValid && poisonIds.Contains(d.Event!.EventId);
        }
        long poisonMetric = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == PartitionMetrics.MeterName && instrument.Name == "sp.shard.poison_records") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref poisonMetric, value));
        listener.Start();

        var run = scenario.KafkaFor("poison");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "poison.db") });
        var node = Node(run, store, "poison", PipelineScenario.ShardOptions with { FaultInjector = new ThrowOnEventIds(poisonIds) });
        await RunToEndAsync(node, scenario, store);

        // The reference in which the poison records were simply rejected at decode time.
        var expected = scenario.Reference((r, label) => IsPoison(r) ? RejectReason.ProcessingError : label);
        var actual = scenario.Outputs(run, out var deadLetters, out var duplicates);
        Assert.True(poisonIds.Count >= 40, $"{poisonIds.Count} poison records");
        Assert.Equal(0, duplicates);
        OutputAssert.Same(expected.Outputs, actual);
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        Assert.Equal(poisonIds.Count, deadLetters.Values.Count(r => r == "processing_error"));
        Assert.True(Interlocked.Read(ref poisonMetric) >= poisonIds.Count, $"metric {poisonMetric}");

        // The dead letters carry the original bytes, the exception type and its message; the poisoned users went on.
        var poisonLetters = TopicReader.ReadAll(kafka.Bootstrap, run.DeadLetterTopic, PipelineScenario.Partitions)
            .Where(r => Header(r, OutputMessages.ReasonHeader) == "processing_error").ToList();
        Assert.Equal(poisonIds.Count, poisonLetters.Count);
        var log = TopicReader.ReadAll(kafka.Bootstrap, scenario.Input, PipelineScenario.Partitions).ToDictionary(r => $"{r.Topic}/{r.Partition.Value}@{r.Offset.Value}");
        var continued = 0;
        foreach (var letter in poisonLetters)
        {
            var source = log[Header(letter, OutputMessages.SourceHeader)];
            Assert.Equal(source.Message.Value, letter.Message.Value);
            Assert.Equal(typeof(InjectedFaultException).FullName, Header(letter, OutputMessages.ErrorTypeHeader));
            var e = decoder.Decode(source.Message.Key, source.Message.Value, source.Message.Timestamp.UnixTimestampMs, "x").Event!;
            Assert.Equal($"{typeof(InjectedFaultException).FullName}: injected fault while applying event {e.EventId} of {e.UserId}", Header(letter, OutputMessages.DetailHeader));
            // Later events of the same user in the same partition were accepted (the user's state kept moving).
            if (log.Values.Any(r => r.Partition == source.Partition && r.Offset > source.Offset && !IsPoison(r) &&
                    !expected.DeadLetters.ContainsKey((r.Partition.Value, r.Offset.Value)) && Encoding.UTF8.GetString(r.Message.Key) == e.UserId))
                continued++;
        }
        Assert.True(continued >= poisonIds.Count * 3 / 4, $"{continued} of {poisonIds.Count} poisoned users had later events processed");
    }

    /// <summary>A store whose every call fails while <see cref="Down"/> is set, like a database that was stopped.</summary>
    private sealed class OutageStore(ICheckpointStore inner) : ICheckpointStore
    {
        public volatile bool Down;
        public long FailedCalls;

        private void Check()
        {
            if (!Down) return;
            Interlocked.Increment(ref FailedCalls);
            throw new IOException("database unavailable (test outage)");
        }

        public Task InitializeAsync(CancellationToken ct = default) { Check(); return inner.InitializeAsync(ct); }
        public Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default) { Check(); return inner.LoadCheckpointAsync(scope, partition, ct); }
        public Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default) { Check(); return inner.LoadEntityAsync(scope, partition, key, ct); }
        public Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default) { Check(); return inner.LoadTimersAsync(scope, partition, ct); }
        public Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default) { Check(); return inner.CommitAsync(batch, ct); }
        public IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, CancellationToken ct = default) { Check(); return inner.ReadEntitiesAsync(scope, partition, ct); }
        public Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default) { Check(); return inner.LoadCheckpointsAsync(scope, ct); }
        public Task<IReadOnlyList<StoredOutboxMessage>> ReadOutboxAsync(string scope, IReadOnlyCollection<int> partitions, int max, CancellationToken ct = default) { Check(); return inner.ReadOutboxAsync(scope, partitions, max, ct); }
        public Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) { Check(); return inner.DeleteOutboxAsync(ids, ct); }
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task StoreOutage_ShardsStallRetryWithBackoffReportItAndRecoverWithoutLoss()
    {
        var scenario = new PipelineScenario(kafka, "outage", seed: 41, count: 20_000, users: 300, produceNow: 8_000);
        var run = scenario.KafkaFor("outage");
        await using var sqlite = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "outage.db") });
        var store = new OutageStore(sqlite);
        var node = Node(run, store, "outage", PipelineScenario.ShardOptions);
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);
        await sqlite.InitializeAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await PipelineScenario.CheckpointedAsync(sqlite) < 8_000)
        {
            if (running.IsCompleted) await running;
            Assert.True(DateTime.UtcNow < deadline, "the first part was not processed");
            await Task.Delay(50);
        }

        // The database goes away while the rest of the log arrives: shards stall (alive, not ready) and retry.
        store.Down = true;
        var downSince = DateTime.UtcNow;
        scenario.ProduceRest();
        var stalledSeen = false;
        var outageEnds = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < outageEnds)
        {
            var stalled = node.Shards.Where(s => s.State == PartitionState.Stalled).ToList();
            if (stalled.Count > 0)
            {
                stalledSeen = true;
                Assert.False(node.Ready);
                Assert.All(stalled, s => Assert.Contains("database unavailable", s.Failure!.GetBaseException().Message));
            }
            Assert.Equal(0, node.FailedShards);
            await Task.Delay(100);
        }
        var checkpointedDuringOutage = await PipelineScenario.CheckpointedAsync(sqlite);
        store.Down = false;
        var outage = DateTime.UtcNow - downSince;
        Assert.True(stalledSeen, "some shard should have reported the outage");
        Assert.True(store.FailedCalls > 0);
        var retries = node.Shards.Sum(s => s.StoreRetries);
        // Bounded back-off (100 ms doubling to 10 s, ±20 %): a shard retries a few times over the outage, not in a tight loop
        // (two more per shard allowed: a shard may stall on a read, recover, and stall again on its commit).
        Assert.InRange(retries, 1, (MostRetriesWithin(outage) + 2) * PipelineScenario.Partitions);

        while (await PipelineScenario.CheckpointedAsync(sqlite) < scenario.Count)
        {
            if (running.IsCompleted) await running;
            Assert.True(DateTime.UtcNow < deadline.AddMinutes(1), $"not recovered: {await PipelineScenario.CheckpointedAsync(sqlite)} of {scenario.Count}");
            await Task.Delay(100);
        }
        Assert.True(checkpointedDuringOutage < scenario.Count);
        // A shard's retried commit is visible in the store a moment before the shard marks itself running again.
        while (node.Shards.Any(s => s.State != PartitionState.Running))
        {
            Assert.True(DateTime.UtcNow < deadline.AddMinutes(1), $"shards not running again: {string.Join(", ", node.Shards.Select(s => $"{s.Partition}:{s.State}"))}");
            await Task.Delay(50);
        }
        Assert.False(node.HadFailures, "the outage is waited out, no shard is restarted");
        stop.Cancel();
        await running;

        var expected = scenario.Reference();
        OutputAssert.Same(expected.Outputs, scenario.Outputs(run, out var deadLetters, out var duplicates));
        Assert.Equal(0, duplicates);
        Assert.Equal(expected.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
    }

    /// <summary>Most retries one episode can make in <paramref name="outage"/>: delays of at least 0.8 × 100 ms × 2^(k−1), capped at 0.8 × 10 s.</summary>
    private static int MostRetriesWithin(TimeSpan outage)
    {
        var retries = 0;
        for (var elapsed = 0.0; elapsed <= outage.TotalSeconds; retries++) elapsed += 0.8 * Math.Min(0.1 * Math.Pow(2, retries), 10);
        return retries;
    }

    private static string Header(ConsumeResult<byte[], byte[]> r, string key) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(key));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
