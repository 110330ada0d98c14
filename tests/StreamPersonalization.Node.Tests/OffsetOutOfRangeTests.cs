using Confluent.Kafka;
using StreamPersonalization.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// A shard whose stored offset fell off the log (the mock keeps ≤ 5 MB per partition, like retention)
/// must report it: with policy Fail it stops and stays failed without moving its checkpoint; with
/// Earliest it continues from the log start and counts the loss. It never skips silently.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class OffsetOutOfRangeTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-oor-").FullName;

    [Theory]
    [InlineData(OffsetOutOfRangePolicy.Fail)]
    [InlineData(OffsetOutOfRangePolicy.Earliest)]
    public async Task StoredOffsetOffTheLog_IsReportedNeverSkippedSilently(OffsetOutOfRangePolicy policy)
    {
        var topic = $"oor-{policy}".ToLowerInvariant();
        kafka.Cluster.CreateTopic(topic, 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, LingerMs = 0 }.WithJavaPartitioner()).Build())
        {
            var big = new byte[10_000];
            for (var i = 0; i < 1_000; i++) producer.Produce(topic, new Message<byte[], byte[]> { Key = "u1"u8.ToArray(), Value = big });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        long logStart;
        using (var probe = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.Bootstrap, GroupId = "probe" }).Build())
            logStart = probe.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).Low.Value;
        Assert.True(logStart > 5, $"the mock should have dropped the oldest records (log starts at {logStart})");

        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "oor.db") });
        await store.InitializeAsync();
        await store.CommitAsync(new CheckpointBatch(StreamNode.Scope, 0, null, 5, 0, null, []));   // a checkpoint at offset 5, now gone
        var run = new KafkaOptions
        {
            BootstrapServers = kafka.Bootstrap, ClickstreamTopic = topic,
            SessionsTopic = topic + "-s", SegmentChangesTopic = topic + "-c", DeadLetterTopic = topic + "-d",
        };
        foreach (var t in new[] { run.SessionsTopic, run.SegmentChangesTopic, run.DeadLetterTopic }) kafka.Cluster.CreateTopic(t, 1);
        var node = new StreamNode(new NodeOptions { NodeId = "oor", GroupId = topic, OnOffsetOutOfRange = policy }, run,
            PipelineScenario.ShardOptions, PipelineScenario.Catalog, store, new KafkaClientFactory(run), NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Func<Task<bool>> done = policy == OffsetOutOfRangePolicy.Fail
            ? () => Task.FromResult(node.FailedShards == 1)
            : async () => (await store.LoadCheckpointAsync(StreamNode.Scope, 0))!.NextOffset == 1_000;
        while (!await done())
        {
            if (running.IsCompleted) await running;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"policy {policy}: failed shards {node.FailedShards}, data loss events {node.DataLossEvents}");
            await Task.Delay(50);
        }
        if (policy == OffsetOutOfRangePolicy.Fail)
        {
            await Task.Delay(1_500);   // a failed shard for data loss is not restarted behind the operator's back
            Assert.Equal(1, node.FailedShards);
            Assert.IsType<DataLossException>(node.Shards.Single().Failure);
            Assert.Equal(5, (await store.LoadCheckpointAsync(StreamNode.Scope, 0))!.NextOffset);
            Assert.False(node.Ready);
        }
        else
        {
            Assert.Equal(1, node.DataLossEvents);
            Assert.Equal(0, node.FailedShards);
        }
        stop.Cancel();
        await running;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
