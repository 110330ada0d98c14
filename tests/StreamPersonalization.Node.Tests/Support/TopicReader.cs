using Confluent.Kafka;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>Reads whole topics back like a downstream consumer (assign every partition, read to the high watermark).</summary>
public static class TopicReader
{
    public static List<ConsumeResult<byte[], byte[]>> ReadAll(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "reader-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var ends = new Dictionary<int, long>();
        var tps = new List<TopicPartitionOffset>();
        for (var p = 0; p < partitions; p++)
        {
            var tp = new TopicPartition(topic, p);
            var w = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (w.High.Value > w.Low.Value) { ends[p] = w.High.Value; tps.Add(new TopicPartitionOffset(tp, w.Low)); }
        }
        if (tps.Count == 0) return results;
        consumer.Assign(tps);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (ends.Count > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"reading {topic}: partitions {string.Join(",", ends.Keys)} not read to the end");
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            results.Add(r);
            if (r.Offset.Value + 1 >= ends.GetValueOrDefault(r.Partition.Value, long.MaxValue)) ends.Remove(r.Partition.Value);
        }
        return results;
    }

    public static long HighWatermarkSum(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "hw-" + Guid.NewGuid().ToString("N") }).Build();
        long sum = 0;
        for (var p = 0; p < partitions; p++) sum += consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value;
        return sum;
    }
}
