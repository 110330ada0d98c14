using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests;

/// <summary>Dead letters keep the original bytes and headers; a record too big to re-publish whole keeps its head and its size.</summary>
[Collection(KafkaCollection.Name)]
public sealed class DeadLetterTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-dlq-").FullName;

    [Fact]
    public async Task BadRecords_GoToDeadLetterWithOriginalBytesHeadersAndReason()
    {
        var input = "clickstream-dlq";
        kafka.Cluster.CreateTopic(input, 1);
        var huge = Encoding.UTF8.GetBytes("{\"user_id\":\"u1\",\"pad\":\"" + new string('x', 950_000) + "\"}");
        var valid = Encoding.UTF8.GetBytes("{\"event_id\":\"e1\",\"user_id\":\"u1\",\"type\":\"page_view\",\"ts\":\"2026-11-22T10:00:00.000Z\",\"device\":\"mobile\",\"country\":\"DE\"}");
        var notJson = new byte[] { 0x7b, 0xff, 0x00, 0x41 };
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, MessageMaxBytes = 2_000_000 }.WithJavaPartitioner()).Build())
        {
            var ts = new Timestamp(DateTimeOffset.Parse("2026-11-22T10:00:01Z"));
            var headers = new Headers { { "trace", "abc"u8.ToArray() } };
            foreach (var value in new[] { huge, notJson, valid })
                await producer.ProduceAsync(input, new Message<byte[], byte[]> { Key = "u1"u8.ToArray(), Value = value, Timestamp = ts, Headers = headers });
        }
        var run = new KafkaOptions
        {
            BootstrapServers = kafka.Bootstrap, ClickstreamTopic = input,
            SessionsTopic = input + "-s", SegmentChangesTopic = input + "-c", DeadLetterTopic = input + "-d",
        };
        foreach (var t in new[] { run.SessionsTopic, run.SegmentChangesTopic, run.DeadLetterTopic }) kafka.Cluster.CreateTopic(t, 1);
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "dlq.db") });
        var (_, stop, running) = InProcessNode.Start(run, store, "dlq", "dlq");
        await store.InitializeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await PipelineScenario.CheckpointedAsync(store) < 3)
        {
            if (running.IsCompleted) await running;
            Assert.True(DateTime.UtcNow < deadline, "the node did not get past the bad records");
            await Task.Delay(50);
        }
        stop.Cancel();
        await running;

        var dead = TopicReader.ReadAll(kafka.Bootstrap, run.DeadLetterTopic, 1);
        Assert.Equal(2, dead.Count);
        string Header(ConsumeResult<byte[], byte[]> r, string key) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(key));
        var tooLarge = dead.Single(r => Header(r, OutputMessages.ReasonHeader) == "too_large");
        Assert.Equal(huge.Length.ToString(), Header(tooLarge, OutputMessages.TruncatedHeader));
        Assert.Equal(huge.AsSpan(0, OutputMessages.MaxDeadLetterValueBytes).ToArray(), tooLarge.Message.Value);
        Assert.Equal($"{input}/0@0", Header(tooLarge, OutputMessages.SourceHeader));
        var garbage = dead.Single(r => Header(r, OutputMessages.ReasonHeader) == "not_json");
        Assert.Equal(notJson, garbage.Message.Value);
        Assert.Equal("abc", Header(garbage, "trace"));
        Assert.Equal("u1", Encoding.UTF8.GetString(garbage.Message.Key));
        Assert.False(garbage.Message.Headers.TryGetLastBytes(OutputMessages.TruncatedHeader, out _));
        // The valid record after them was processed: u1 entered mobile_germany (config/segments.yaml).
        var change = Assert.Single(TopicReader.ReadAll(kafka.Bootstrap, run.SegmentChangesTopic, 1));
        Assert.Contains("\"segment\":\"mobile_germany\"", Encoding.UTF8.GetString(change.Message.Value));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
