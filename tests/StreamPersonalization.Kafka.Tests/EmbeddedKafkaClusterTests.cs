using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Kafka.Embedded;
using Xunit.Abstractions;

namespace StreamPersonalization.Kafka.Tests;

public sealed class EmbeddedKafkaClusterTests(ITestOutputHelper output)
{
    private static ProducerConfig ProducerConfig(EmbeddedKafkaCluster c) => new ProducerConfig
    {
        BootstrapServers = c.BootstrapServers,
        LingerMs = 5,
        Acks = Acks.All,
    }.WithJavaPartitioner();

    private static ConsumerConfig ConsumerConfig(EmbeddedKafkaCluster c, string group) => new()
    {
        BootstrapServers = c.BootstrapServers,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
    };

    [Fact]
    public void Start_ReturnsLocalBootstrapServers_ForEachBroker()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        var servers = cluster.BootstrapServers.Split(',');
        Assert.Equal(3, servers.Length);
        Assert.All(servers, s => Assert.Matches(@"^(127\.0\.0\.1|localhost):\d+$", s));
    }

    [Fact]
    public void CreateTopic_Twice_Throws()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("t", 2);
        var ex = Assert.Throws<KafkaException>(() => cluster.CreateTopic("t", 2));
        Assert.Equal(ErrorCode.TopicAlreadyExists, ex.Error.Code);
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var cluster = EmbeddedKafkaCluster.Start();
        cluster.Dispose();
        cluster.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("t", 1));
    }

    [Fact]
    public void CreateDefaults_CreatesAllFourTopicsWithPartitionCount()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        KafkaTopics.CreateDefaults(cluster, 4);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var md = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var name in new[] { "clickstream", "sessions", "segment-changes", "dead-letter" })
        {
            var t = Assert.Single(md.Topics, t => t.Topic == name);
            Assert.Equal(4, t.Partitions.Count);
        }
    }

    [Fact]
    public async Task ProduceConsume_KeyedMessages_RoundTripInPartitionOrder()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        cluster.CreateTopic("rt", 4);
        const int n = 1000;
        var sent = new Dictionary<int, List<string>>();
        using (var producer = new ProducerBuilder<string, string>(ProducerConfig(cluster)).Build())
        {
            var tasks = Enumerable.Range(0, n)
                .Select(i => producer.ProduceAsync("rt", new Message<string, string> { Key = $"user-{i % 37}", Value = $"v{i}" }))
                .ToList();
            foreach (var r in await Task.WhenAll(tasks))
            {
                Assert.Equal(PersistenceStatus.Persisted, r.Status);
                if (!sent.TryGetValue(r.Partition.Value, out var list)) sent[r.Partition.Value] = list = [];
                list.Add(r.Message.Key + "=" + r.Message.Value);
            }
        }
        Assert.True(sent.Count > 1, "keys should spread over several partitions");

        var got = new Dictionary<int, List<string>>();
        var keyPartition = new Dictionary<string, int>();
        using var consumer = new ConsumerBuilder<string, string>(ConsumerConfig(cluster, "rt-g")).Build();
        consumer.Subscribe("rt");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var count = 0;
        while (count < n && DateTime.UtcNow < deadline)
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (cr is null) continue;
            count++;
            if (!got.TryGetValue(cr.Partition.Value, out var list)) got[cr.Partition.Value] = list = [];
            list.Add(cr.Message.Key + "=" + cr.Message.Value);
            Assert.Equal(cr.Partition.Value, keyPartition.TryAdd(cr.Message.Key, cr.Partition.Value) ? cr.Partition.Value : keyPartition[cr.Message.Key]);
        }
        consumer.Close();

        Assert.Equal(n, count);
        Assert.Equal(sent.Keys.Order(), got.Keys.Order());
        foreach (var (p, list) in sent) Assert.Equal(list, got[p]);
    }

    [Fact]
    public async Task CooperativeSticky_TwoConsumers_ShareThenSurvivorTakesAll()
    {
        using var cluster = EmbeddedKafkaCluster.Start(2);
        cluster.CreateTopic("coop", 6);
        var config = ConsumerConfig(cluster, "coop-g");
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        // The mock waits for members to (re)join on every rebalance round (timing in README); 2000 ms never settled.
        config.SessionTimeoutMs = 6000;
        config.HeartbeatIntervalMs = 500;

        using var stop1 = new CancellationTokenSource();
        using var stop2 = new CancellationTokenSource();
        var c1 = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        var c2 = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        var t1 = ConsumeLoop(c1, "coop", stop1.Token);
        var t2 = ConsumeLoop(c2, "coop", stop2.Token);
        var sw = Stopwatch.StartNew();
        try
        {
            await WaitUntil(() => c1.Assignment.Count > 0 && c2.Assignment.Count > 0
                                  && c1.Assignment.Count + c2.Assignment.Count == 6, TimeSpan.FromSeconds(90));
            var a1 = c1.Assignment.Select(tp => tp.Partition.Value).ToHashSet();
            var a2 = c2.Assignment.Select(tp => tp.Partition.Value).ToHashSet();
            output.WriteLine($"shared after {sw.ElapsedMilliseconds} ms");
            output.WriteLine($"c1: {string.Join(",", a1.Order())}  c2: {string.Join(",", a2.Order())}");
            Assert.Empty(a1.Intersect(a2));
            Assert.Equal(Enumerable.Range(0, 6), a1.Union(a2).Order());

            sw.Restart();
            stop2.Cancel();
            await t2; // closes c2 (leaves the group) on its own thread
            output.WriteLine($"c2 closed after {sw.ElapsedMilliseconds} ms");
            await WaitUntil(() => c1.Assignment.Count == 6, TimeSpan.FromSeconds(90));
            output.WriteLine($"c1 owns all 6 after {sw.ElapsedMilliseconds} ms");
            Assert.Equal(Enumerable.Range(0, 6), c1.Assignment.Select(tp => tp.Partition.Value).Order());
        }
        finally
        {
            stop1.Cancel();
            stop2.Cancel();
            await Task.WhenAll(t1, t2);
            c1.Dispose();
            c2.Dispose();
        }
    }

    [Fact]
    public async Task SetBrokerDown_ProduceWhileDown_DeliveredAfterUp()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("down", 1);
        var errors = new ConcurrentQueue<Error>();
        var cfg = ProducerConfig(cluster);
        cfg.MessageTimeoutMs = 60_000;
        cfg.ReconnectBackoffMs = 50;
        cfg.ReconnectBackoffMaxMs = 200;
        using var producer = new ProducerBuilder<string, string>(cfg).SetErrorHandler((_, e) => errors.Enqueue(e)).Build();
        await producer.ProduceAsync("down", new Message<string, string> { Key = "k", Value = "before" });

        cluster.SetBrokerDown(1);
        var pending = producer.ProduceAsync("down", new Message<string, string> { Key = "k", Value = "during" });
        // The client reports the lost connection on its poll thread (late on a loaded machine); the message must wait meanwhile.
        await WaitUntil(() => errors.Any(e => e.Code is ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown), TimeSpan.FromSeconds(30));
        Assert.False(pending.IsCompleted, "message must wait for the broker, not fail");
        var whileDown = errors.ToArray();
        output.WriteLine("errors while down: " + string.Join(" | ", whileDown.Select(e => $"{e.Code}: {e.Reason}")));

        cluster.SetBrokerUp(1);
        var r = await pending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(PersistenceStatus.Persisted, r.Status);
        Assert.Equal(1, r.Offset.Value);
        Assert.Contains(whileDown, e => e.Code is ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown);
    }

    [Fact]
    public async Task PushRequestErrors_RetriableProduceErrors_IdempotentProducerDeliversExactlyOnce()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("retry", 1);
        var cfg = ProducerConfig(cluster);
        cfg.EnableIdempotence = true;
        cfg.RetryBackoffMs = 20;
        cfg.StatisticsIntervalMs = 100;
        string? lastStats = null;
        using var producer = new ProducerBuilder<string, string>(cfg).SetStatisticsHandler((_, json) => lastStats = json).Build();
        await producer.ProduceAsync("retry", new Message<string, string> { Key = "k", Value = "warmup" });

        cluster.PushRequestErrors(KafkaApiKey.Produce,
            ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicasAfterAppend);
        var r = await producer.ProduceAsync("retry", new Message<string, string> { Key = "k", Value = "once" });
        Assert.Equal(PersistenceStatus.Persisted, r.Status);
        Assert.Equal(1, r.Offset.Value);

        // The injected errors were really hit: 1 warm-up + 1 first attempt + 3 retried Produce requests.
        // (Produce-level errors requeue messages; the broker's "txretries" counter stays 0.)
        await WaitUntil(() => ProduceRequests(lastStats) >= 5, TimeSpan.FromSeconds(30));
        Assert.Equal(5, ProduceRequests(lastStats));
        var values = ReadAll(cluster, "retry", 0, expected: 2);
        Assert.Equal(["warmup", "once"], values);
    }

    [Fact]
    public async Task ClearRequestErrors_RemovesPendingErrors()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("clear", 1);
        var cfg = ProducerConfig(cluster);
        cfg.MessageSendMaxRetries = 0;
        cfg.EnableIdempotence = false;
        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.MsgSizeTooLarge);
        cluster.ClearRequestErrors(KafkaApiKey.Produce);
        using var producer = new ProducerBuilder<Null, string>(cfg).Build();
        var r = await producer.ProduceAsync("clear", new Message<Null, string> { Value = "x" });
        Assert.Equal(PersistenceStatus.Persisted, r.Status);
    }

    [Fact]
    public async Task PushRequestErrors_NonRetriableProduceError_FailsDelivery()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("fail", 1);
        var cfg = ProducerConfig(cluster);
        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.MsgSizeTooLarge);
        using var producer = new ProducerBuilder<Null, string>(cfg).Build();
        var ex = await Assert.ThrowsAsync<ProduceException<Null, string>>(
            () => producer.ProduceAsync("fail", new Message<Null, string> { Value = "x" }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, ex.Error.Code);
    }

    private static long ProduceRequests(string? statsJson)
    {
        if (statsJson is null) return 0;
        using var doc = System.Text.Json.JsonDocument.Parse(statsJson);
        return doc.RootElement.GetProperty("brokers").EnumerateObject()
            .Sum(b => b.Value.GetProperty("req").GetProperty("Produce").GetInt64());
    }

    internal static List<string> ReadAll(EmbeddedKafkaCluster cluster, string topic, int partition, int expected)
    {
        var cfg = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "reader-" + Guid.NewGuid(), EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<Ignore, string>(cfg).Build();
        consumer.Assign(new TopicPartitionOffset(topic, partition, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        // Read until `expected` messages and then 1 s of silence, so extra duplicates would be seen.
        var quietUntil = DateTime.MaxValue;
        while (DateTime.UtcNow < deadline && DateTime.UtcNow < quietUntil)
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (cr is not null) values.Add(cr.Message.Value);
            if (values.Count >= expected && quietUntil == DateTime.MaxValue) quietUntil = DateTime.UtcNow.AddSeconds(1);
        }
        consumer.Close();
        return values;
    }

    internal static Task ConsumeLoop<TK, TV>(IConsumer<TK, TV> consumer, string topic, CancellationToken stop,
        Action<ConsumeResult<TK, TV>>? onMessage = null) =>
        Task.Factory.StartNew(() =>
        {
            consumer.Subscribe(topic);
            while (!stop.IsCancellationRequested)
            {
                var cr = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (cr is not null) onMessage?.Invoke(cr);
            }
            consumer.Close();
        }, TaskCreationOptions.LongRunning);

    internal static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException("condition not reached within " + timeout);
            await Task.Delay(50);
        }
    }
}
