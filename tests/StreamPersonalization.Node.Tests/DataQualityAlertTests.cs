using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests;

/// <summary>A partition whose producer starts sending garbage raises one data-quality alert on the alerts topic.</summary>
[Collection(KafkaCollection.Name)]
public sealed class DataQualityAlertTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-dq-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task InvalidRecordBurst_RaisesOneDataQualityAlertPerPartition()
    {
        var name = "dq" + Guid.NewGuid().ToString("N")[..6];
        var run = new KafkaOptions
        {
            BootstrapServers = kafka.Bootstrap, ClickstreamTopic = $"{name}-in", SessionsTopic = $"{name}-s", SegmentChangesTopic = $"{name}-c",
            DeadLetterTopic = $"{name}-d", ExperimentStatsTopic = $"{name}-x", ExperimentStateTopic = $"{name}-y", AlertsTopic = $"{name}-a",
            SessionTimeout = TimeSpan.FromSeconds(6),
        };
        foreach (var t in new[] { run.ClickstreamTopic, run.SessionsTopic, run.SegmentChangesTopic, run.DeadLetterTopic, run.ExperimentStatsTopic, run.ExperimentStateTopic, run.AlertsTopic })
            kafka.Cluster.CreateTopic(t, 1);
        // 3,000 valid events, then 1,200 of every 4,000 records are not JSON (30 %: above the 20 % critical ratio).
        var start = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        using (var producer = SyntheticProducer.CreateBulkProducer(kafka.Bootstrap))
        {
            for (var i = 0; i < 7_000; i++)
            {
                var user = $"dq-user-{i % 50}";
                var garbage = i >= 3_000 && i % 10 < 3;
                var value = garbage ? "{not json"u8.ToArray() : Encoding.UTF8.GetBytes($$"""{"event_id":"e{{i}}","user_id":"{{user}}","type":"click","ts":{{start + i * 100}}}""");
                producer.Produce(run.ClickstreamTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(user), Value = value });
            }
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "dq.db") });
        await store.InitializeAsync();
        var node = new StreamNode(new NodeOptions { NodeId = name, GroupId = $"{name}-users", CheckpointInterval = TimeSpan.FromMilliseconds(100), CheckpointMaxRecords = 500 },
            run, PipelineScenario.ShardOptions, PipelineScenario.Catalog, store, new KafkaClientFactory(run), NullLoggerFactory.Instance,
            dataQuality: new DataQualityOptions { WindowCheckpoints = 4, MinimumRecords = 1000 });
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await PipelineScenario.CheckpointedAsync(store) < 7_000)
        {
            if (running.IsCompleted) await running;
            Assert.True(DateTime.UtcNow < deadline, "input not processed in time");
            await Task.Delay(100);
        }
        stop.Cancel();
        await running;

        var alerts = TopicReader.ReadAll(kafka.Bootstrap, run.AlertsTopic, 1).Select(r => JsonDocument.Parse(r.Message.Value).RootElement.Clone()).ToList();
        var raised = alerts.Where(a => a.GetProperty("state").GetString() == "raised").ToList();
        Assert.NotEmpty(raised);
        Assert.All(alerts, a => Assert.Equal("data_quality", a.GetProperty("detector").GetString()));
        // Deduplicated: each (key, severity) raised at most once although every checkpoint re-evaluated the ratio.
        Assert.Equal(raised.Count, raised.Select(a => (a.GetProperty("key").GetString(), a.GetProperty("severity").GetString())).Distinct().Count());
        Assert.Contains(raised, a => a.GetProperty("severity").GetString() == "critical");
        Assert.Contains(raised, a => a.GetProperty("evidence").EnumerateObject().Any(e => e.Value.ValueKind == JsonValueKind.Number && e.Value.GetDouble() is > 0.2 and < 0.4));
    }
}
