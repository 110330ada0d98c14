using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests;

/// <summary>The <c>sp</c> executable as a user runs it: the demo, the generator verb, and configuration errors.</summary>
[Collection(KafkaCollection.Name)]
public sealed class CliTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-cli-").FullName;

    [Fact]
    public async Task Demo_WithDuration_ProcessesTrafficAndExitsCleanly()
    {
        using var demo = NodeProcess.Start(["demo", "--duration", "24s", "--rate", "5000", "--urls", "none", "--set", $"Node:DataDirectory={_dir}"]);
        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(90)), $"demo did not stop by itself:\n{demo.Log}");
        Assert.True(demo.ExitCode == 0, $"exit code {demo.ExitCode}:\n{demo.Log}");
        Assert.Contains("segments:", demo.Log);
        Assert.Contains("stopped", demo.Log);
        Assert.Matches(@"valid [1-9][\d,]*", demo.Log);   // events were processed, not just produced
        Assert.True(File.Exists(Path.Combine(_dir, "demo.db")));
    }

    [Fact]
    public async Task Produce_WritesExactlyCountRecords()
    {
        kafka.Cluster.CreateTopic("cli-produce", 3);
        using var produce = NodeProcess.Start(["produce", "--bootstrap", kafka.Bootstrap, "--topic", "cli-produce", "--count", "5000", "--seed", "3"]);
        Assert.True(await produce.WaitForExitAsync(TimeSpan.FromSeconds(60)), produce.Log);
        Assert.True(produce.ExitCode == 0, produce.Log);
        Assert.Equal(5000, TopicReader.HighWatermarkSum(kafka.Bootstrap, "cli-produce", 3));
    }

    [Theory]
    [InlineData("produce")]
    [InlineData("run")]
    public async Task Verb_WithoutLoadableLibrdkafka_FailsNamingWhatIsMissing(string verb)
    {
        // The program as installed, but with every packaged librdkafka build replaced by a file the loader rejects.
        var program = Path.Combine(_dir, "program");
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(program, Path.GetRelativePath(AppContext.BaseDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Path.GetFileName(file).Contains("librdkafka", StringComparison.Ordinal)) File.WriteAllText(target, "not a library");
            else File.Copy(file, target);   // a copy, not a link: the runtime resolves links to the original directory
        }
        string[] args = verb == "produce"
            ? ["produce", "--bootstrap", kafka.Bootstrap, "--topic", "cli-nolib", "--count", "10"]
            : ["run", "--bootstrap", kafka.Bootstrap, "--data-dir", _dir, "--urls", "none"];
        using var process = NodeProcess.Start(args, program);
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(30)), process.Log);
        Assert.True(process.ExitCode == 2, $"exit code {process.ExitCode}:\n{process.Log}");
        Assert.Contains("error: librdkafka", process.Log);
        Assert.Contains("librdkafka.redist", process.Log);
        Assert.Contains(Path.Combine(program, "runtimes", "linux-x64", "native", "centos8-librdkafka.so") + ":", process.Log);
        Assert.DoesNotContain("   at ", process.Log);
    }

    [Theory]
    [InlineData("Node:CheckpointMaxRecords=0", "Node:CheckpointMaxRecords")]
    [InlineData("Storage:Provider=mysql", "Storage:Provider")]
    [InlineData("Sessions:Gap=00:00:00", "Sessions:Gap")]
    public async Task Run_InvalidSetting_FailsNamingTheKey(string setting, string key)
    {
        using var run = NodeProcess.Start(["run", "--bootstrap", kafka.Bootstrap, "--data-dir", _dir, "--set", setting]);
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(30)), run.Log);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"error: ", run.Log);
        Assert.Contains($"'{key}'", run.Log);
        Assert.DoesNotContain("   at ", run.Log);   // one clear line, not a stack trace
    }

    [Fact]
    public async Task Run_ServesReadinessLivenessAndMetrics_ThenStopsCleanlyOnSigterm()
    {
        const string topic = "cli-health";
        kafka.Cluster.CreateTopic(topic, 2);
        foreach (var t in new[] { "cli-health-s", "cli-health-c", "cli-health-d", "cli-health-x", "cli-health-y", "cli-health-a" }) kafka.Cluster.CreateTopic(t, 2);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap }.WithJavaPartitioner()).Build())
        {
            var ts = DateTimeOffset.UtcNow.AddMinutes(-1);
            var valid = $"{{\"event_id\":\"e1\",\"user_id\":\"u1\",\"type\":\"page_view\",\"ts\":\"{ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"}}";
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[], byte[]> { Key = "u1"u8.ToArray(), Value = "{not json"u8.ToArray() });
            await producer.ProduceAsync(new TopicPartition(topic, 1), new Message<byte[], byte[]> { Key = "u1"u8.ToArray(), Value = Encoding.UTF8.GetBytes(valid) });
        }
        var port = 18_000 + Random.Shared.Next(1_000);
        using var node = NodeProcess.Start([
            "run", "--bootstrap", kafka.Bootstrap, "--data-dir", _dir, "--urls", $"http://127.0.0.1:{port}",
            "--set", $"Kafka:ClickstreamTopic={topic}", "--set", "Kafka:SessionsTopic=cli-health-s", "--set", "Kafka:SegmentChangesTopic=cli-health-c",
            "--set", "Kafka:DeadLetterTopic=cli-health-d", "--set", "Kafka:ExperimentStatsTopic=cli-health-x", "--set", "Node:GroupId=cli-health",
            "--set", "Kafka:ExperimentStateTopic=cli-health-y", "--set", "Kafka:AlertsTopic=cli-health-a", "--set", "Node:ExperimentsGroupId=cli-health-experiments",
        ]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpResponseMessage? ready = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                ready = await http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode) break;
                Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);   // listening, not ready yet
            }
            catch (HttpRequestException) { }   // not listening yet
            Assert.False(node.HasExited, node.Log);
            await Task.Delay(100);
        }
        Assert.True(ready is { IsSuccessStatusCode: true }, $"never ready:\n{node.Log}");
        var body = await ready!.Content.ReadAsStringAsync();
        Assert.Contains("\"ready\":true", body);
        Assert.Contains("\"partition\":0", body);
        Assert.Contains("\"partition\":1", body);
        var live = await http.GetAsync("/healthz");
        Assert.True(live.IsSuccessStatusCode, await live.Content.ReadAsStringAsync());

        // /metrics: Prometheus text with the node's gauges and the two records' counters once both shards processed them.
        HttpResponseMessage metrics;
        string[] lines;
        var processed = new[] { "sp_shard_next_offset{partition=\"0\"} 1", "sp_shard_next_offset{partition=\"1\"} 1" };
        deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            metrics = await http.GetAsync("/metrics");
            lines = (await metrics.Content.ReadAsStringAsync()).Split('\n');
            if (processed.All(lines.Contains)) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        var exposition = string.Join('\n', lines);
        Assert.Equal(System.Net.HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Contains(metrics.Content.Headers.ContentType!.Parameters, p => p is { Name: "version", Value: "0.0.4" });
        foreach (var line in processed.Concat([
            "sp_node_ready 1",
            "sp_node_failed_shards 0",
            "sp_shard_state{partition=\"0\",state=\"running\"} 1",
            "sp_shard_state{partition=\"0\",state=\"stalled\"} 0",
            "sp_shard_queued{partition=\"1\"} 0",
            "sp_shard_records_total{partition=\"0\"} 1",
            "sp_shard_dead_lettered_total{partition=\"0\",reason=\"not_json\"} 1",
            "sp_shard_dead_lettered_total{partition=\"1\",reason=\"not_json\"} 0",
            "sp_shard_events_accepted_total{partition=\"0\"} 0",
            "sp_shard_events_accepted_total{partition=\"1\"} 1",
            "# TYPE sp_shard_stalled gauge",
            "# TYPE sp_shard_store_retries_total counter",
        ]))
            Assert.True(lines.Contains(line), $"no line '{line}' in:\n{exposition}\n{node.Log}");
        Assert.True(node.Terminate(TimeSpan.FromSeconds(60)), node.Log);
        Assert.True(node.ExitCode == 0, $"exit {node.ExitCode}:\n{node.Log}");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
