using System.Diagnostics;
using Confluent.Kafka;
using StreamPersonalization.Kafka.Embedded;
using Xunit.Abstractions;
using static StreamPersonalization.Kafka.Tests.EmbeddedKafkaClusterTests;

namespace StreamPersonalization.Kafka.Tests;

/// <summary>Findings about the mock cluster that the README records (throughput, retention, assigned offsets).
/// Runs alone (no parallel test classes) so the throughput numbers are not skewed by other tests.</summary>
[Collection(nameof(SerialCollection))]
public sealed class MockClusterBehaviourTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Throughput_SingleConsumer_Reads200kMessages(bool tunedProducer, bool tunedConsumer)
    {
        const int partitions = 12, count = 200_000, size = 200;
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("bench", partitions);
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);

        var sw = Stopwatch.StartNew();
        var pcfg = new ProducerConfig { BootstrapServers = cluster.BootstrapServers, QueueBufferingMaxMessages = 500_000 };
        if (tunedProducer)
        {
            pcfg.LingerMs = 20;
            pcfg.BatchSize = 1_000_000;
            pcfg.Acks = Acks.Leader;
        }
        using (var producer = new ProducerBuilder<Null, byte[]>(pcfg).Build())
        {
            for (var i = 0; i < count; i++)
                producer.Produce(new TopicPartition("bench", i % partitions), new Message<Null, byte[]> { Value = payload });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        var produceSec = sw.Elapsed.TotalSeconds;

        var ccfg = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "bench-g",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        if (tunedConsumer)
        {
            ccfg.FetchMaxBytes = 50_000_000;
            ccfg.MaxPartitionFetchBytes = 4_000_000;
            ccfg.FetchWaitMaxMs = 10;
            ccfg.QueuedMinMessages = 200_000;
        }
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(ccfg).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset("bench", p, Offset.Beginning)));
        sw.Restart();
        var got = 0L;
        var bytes = 0L;
        while (got < count && sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (cr is null) continue;
            got++;
            bytes += cr.Message.Value.Length;
        }
        var consumeSec = sw.Elapsed.TotalSeconds;
        consumer.Close();

        output.WriteLine($"tunedProducer={tunedProducer} tunedConsumer={tunedConsumer}");
        output.WriteLine($"produce: {count} x {size} B over {partitions} partitions in {produceSec:F2} s = {count / produceSec:N0} msg/s");
        output.WriteLine($"consume: {got} msgs in {consumeSec:F2} s = {got / consumeSec:N0} msg/s, {bytes / consumeSec / 1e6:F1} MB/s");
        Assert.Equal(count, got);
    }

    [Fact]
    public void Retention_SeekBelowLogStart_WithAutoOffsetResetError_RaisesConsumeError()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("small", 1);
        var value = new byte[10_000];
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
               {
                   BootstrapServers = cluster.BootstrapServers, LingerMs = 5, BatchSize = 100_000,
               }).Build())
        {
            for (var i = 0; i < 1_000; i++) // 10 MB > the mock's 5 MB per-partition cap
                producer.Produce("small", new Message<Null, byte[]> { Value = value });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var cfg = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "ret-g", EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Error,
        };
        var errors = new List<Error>();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(cfg).SetErrorHandler((_, e) => errors.Add(e)).Build();
        var wm = consumer.QueryWatermarkOffsets(new TopicPartition("small", 0), TimeSpan.FromSeconds(10));
        output.WriteLine($"watermarks after 10 MB: low={wm.Low.Value} high={wm.High.Value}");
        Assert.True(wm.Low.Value > 0, "the mock should have dropped the oldest message sets");
        Assert.Equal(1_000, wm.High.Value);

        consumer.Assign(new TopicPartitionOffset("small", 0, 0));
        ConsumeException? ex = null;
        var sw = Stopwatch.StartNew();
        while (ex is null && sw.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                var cr = consumer.Consume(TimeSpan.FromMilliseconds(200));
                Assert.True(cr is null, $"unexpected message at offset {cr?.Offset}");
            }
            catch (ConsumeException e) { ex = e; }
        }
        Assert.NotNull(ex);
        output.WriteLine($"ConsumeException: {ex!.Error.Code} '{ex.Error.Reason}' at {ex.ConsumerRecord?.TopicPartitionOffset}");
        output.WriteLine("error handler saw: " + string.Join(" | ", errors.Select(e => $"{e.Code}: {e.Reason}")));
        Assert.Equal(ErrorCode.Local_AutoOffsetReset, ex.Error.Code);
    }

    [Fact]
    public async Task CooperativeSticky_AssignedHandlerReturningOffsets_ConsumerStartsThere()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("seek", 3);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var p = 0; p < 3; p++)
            for (var i = 0; i < 10; i++)
                producer.Produce(new TopicPartition("seek", p), new Message<Null, string> { Value = $"p{p}-{i}" });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var cfg = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "seek-g", EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        };
        var startAt = new Dictionary<int, long> { [0] = 7, [1] = 3, [2] = 9 };
        var first = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        using var consumer = new ConsumerBuilder<Ignore, string>(cfg)
            .SetPartitionsAssignedHandler((_, parts) =>
                parts.Select(tp => new TopicPartitionOffset(tp, startAt[tp.Partition.Value])))
            .Build();
        using var stop = new CancellationTokenSource();
        var loop = ConsumeLoop(consumer, "seek", stop.Token, cr => first.TryAdd(cr.Partition.Value, cr.Offset.Value));
        try
        {
            await WaitUntil(() => first.Count == 3, TimeSpan.FromSeconds(20));
        }
        finally
        {
            stop.Cancel();
            await loop;
        }
        output.WriteLine("first offsets read: " + string.Join(", ", first.OrderBy(kv => kv.Key).Select(kv => $"p{kv.Key}@{kv.Value}")));
        foreach (var (p, o) in startAt) Assert.Equal(o, first[p]);
    }
}

[CollectionDefinition(nameof(SerialCollection), DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>Behaviours librdkafka 2.0.2 got wrong and the engine once worked around; kept as guards.</summary>
public sealed class ClientRegressionTests
{
    [Fact]
    public async Task CooperativeSticky_ClosedBeforeFirstAssignment_DoesNotAbortTheProcess()
    {
        // 2.0.2's sticky assignor asserted (abort) in rd_kafka_sticky_assignor_state_destroy when a cooperative consumer
        // was closed before its first assignment completed; the experiment stage used eager range assignment because of it.
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("early-close", 4);
        for (var round = 0; round < 5; round++)
        {
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
            {
                BootstrapServers = cluster.BootstrapServers, GroupId = "early-close-g",
                PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky, SessionTimeoutMs = 6000,
            }).Build();
            consumer.Subscribe("early-close");
            consumer.Consume(TimeSpan.FromMilliseconds(round * 300));   // 0..1.2 s: closes inside the 3 s first-join window
            consumer.Close();
        }
        // A member that does finish joining still gets partitions after the early closes.
        using var last = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "early-close-g",
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky, SessionTimeoutMs = 6000,
        }).Build();
        using var stop = new CancellationTokenSource();
        var loop = EmbeddedKafkaClusterTests.ConsumeLoop(last, "early-close", stop.Token);
        await EmbeddedKafkaClusterTests.WaitUntil(() => last.Assignment.Count == 4, TimeSpan.FromSeconds(60));
        stop.Cancel();
        await loop;
    }
}
