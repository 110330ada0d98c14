using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// (b) A pre-produced log in the embedded Kafka consumed by one node checkpointing to SQLite: records/s
/// from the first shard's start to the checkpoint that covers the last record (group join excluded). In the same
/// run, before the node, a bare Confluent.Kafka consume loop (the node's consumer settings, every partition assigned
/// from the start, records only counted) reads the same log: the engine's figure is also printed as a ratio of it; and
/// the ingest graph's <see cref="KafkaSourceStage"/> reads it once more into a counting sink, to show what the
/// Akka.Streams source costs by itself.
/// </summary>
internal static class EndToEndBenchmark
{
    public static async Task RunAsync(NodeSettings settings, int records, int partitions, Table table, CancellationToken ct)
    {
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        var kafka = settings.Kafka with { BootstrapServers = cluster.BootstrapServers };
        foreach (var topic in new[] { kafka.ClickstreamTopic, kafka.SessionsTopic, kafka.SegmentChangesTopic, kafka.DeadLetterTopic, kafka.ExperimentStatsTopic })
            cluster.CreateTopic(topic, partitions);
        using (var producer = SyntheticProducer.CreateBulkProducer(cluster.BootstrapServers))
        {
            var sw = Stopwatch.StartNew();
            new SyntheticProducer(producer, kafka.ClickstreamTopic).Produce(
                new ClickstreamGenerator(new ClickstreamGeneratorOptions { Users = 50_000 }).Generate(records), 0, null, ct);
            table.AddRow($"produce {records:N0} records to embedded Kafka", $"{records / sw.Elapsed.TotalSeconds:N0} records/s", "");
        }
        var bare = BareConsumerRate(kafka, records, partitions);
        table.AddRow($"bare Confluent.Kafka consume loop, same log", $"{bare:N0} records/s", "");
        var source = await SourceStageRateAsync(kafka, records, ct);
        table.AddRow("KafkaSourceStage (Akka.Streams) into a counting sink, same log", $"{source:N0} records/s ({source / bare:F2} of the bare loop)", "");
        var dir = Directory.CreateTempSubdirectory("sp-bench-").FullName;
        try
        {
            await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(dir, "bench.db") });
            var node = new StreamNode(settings.Node with { NodeId = "bench", GroupId = "sp-bench" }, kafka, settings.Shards, settings.LoadCatalog(),
                store, new KafkaClientFactory(kafka), NullLoggerFactory.Instance, experiments: settings.LoadExperiments());
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var running = node.RunAsync(stop.Token);
            while (node.Shards.Count == 0 && !running.IsCompleted) await Task.Delay(5, ct);
            var sw = Stopwatch.StartNew();
            await store.InitializeAsync(ct);
            while ((await store.LoadCheckpointsAsync(StreamNode.Scope, ct)).Sum(c => c.NextOffset) < records)
            {
                if (running.IsCompleted) await running;
                await Task.Delay(20, ct);
            }
            var elapsed = sw.Elapsed;
            stop.Cancel();
            await running;
            var rate = records / elapsed.TotalSeconds;
            table.AddRow($"(b) end-to-end, {records:N0} records, {partitions} partitions, SQLite checkpoints",
                $"[bold]{rate:N0} records/s[/] ({elapsed.TotalSeconds:F1} s)", rate >= 100_000 ? "≥ 100,000/s per node: [green]met[/]" : "≥ 100,000/s per node: [red]not met[/]");
            var ratio = rate / bare;
            table.AddRow("(b) as a ratio of the bare consumer", $"[bold]{ratio:F2}[/]", ratio >= 0.8 ? "≥ 0.8: [green]met[/]" : "≥ 0.8: [red]not met[/]");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Records/s through <see cref="KafkaSourceStage"/> (the node's consumer settings, a group of its own) into a
    /// sink that only counts, from the first assignment until all <paramref name="records"/> arrived.</summary>
    private static async Task<double> SourceStageRateAsync(KafkaOptions kafka, int records, CancellationToken ct)
    {
        using var system = ActorSystem.Create("sp-bench-source", "akka.loglevel = WARNING");
        var config = new KafkaClientFactory(kafka).ConsumerConfig("bench-source", "sp-bench-source");
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Stopwatch? sw = null;
        long read = 0, bytes = 0;
        var control = Source.FromGraph(new KafkaSourceStage(config, kafka.ClickstreamTopic, _ => null))
            .To(Sink.ForEach<PartitionEvent>(e =>
            {
                switch (e)
                {
                    case PartitionAssigned:
                        sw ??= Stopwatch.StartNew();
                        break;
                    case PartitionRecords r:
                        foreach (var x in r.Records) bytes += x.Message.Value?.Length ?? 0;   // touch the value, as the bare loop does
                        if ((read += r.Records.Count) >= records) all.TrySetResult();
                        break;
                    case PartitionRevoked v:
                        v.Acknowledge();
                        break;
                }
            }))
            .Run(system.Materializer());
        await all.Task.WaitAsync(TimeSpan.FromMinutes(5), ct);
        var elapsed = sw!.Elapsed;
        await control.DrainAsync();
        await system.Terminate();
        return records / elapsed.TotalSeconds;
    }

    /// <summary>Records/s of a consumer that only counts: from assignment until it has read all <paramref name="records"/>.</summary>
    private static double BareConsumerRate(KafkaOptions kafka, int records, int partitions)
    {
        var config = new KafkaClientFactory(kafka).ConsumerConfig("bench-bare", "sp-bench-bare");
        using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(config).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new Confluent.Kafka.TopicPartitionOffset(kafka.ClickstreamTopic, p, Confluent.Kafka.Offset.Beginning)));
        var sw = Stopwatch.StartNew();
        long read = 0, bytes = 0;
        while (read < records && sw.Elapsed < TimeSpan.FromMinutes(5))
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null) continue;
            read++;
            bytes += result.Message.Value?.Length ?? 0;   // touch the value, as any consumer would
        }
        if (read < records) throw new InvalidOperationException($"the bare consumer read {read} of {records} records in 5 minutes");
        return read / sw.Elapsed.TotalSeconds;
    }
}
