using System.Diagnostics;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Soak: one node process under a steady produce rate for a bounded time (counted and timed; it stops by itself),
/// with short passivation, its resident memory sampled from <c>/proc/&lt;pid&gt;/status</c>. Trait Category=Soak
/// (about 3 minutes): <c>scripts/test.sh</c> runs it with everything else; leave it out of a quick local run with
/// <c>--filter "Category!=Soak"</c>.
/// </summary>
[Collection(KafkaCollection.Name)]   // serial with the other pipeline tests: their load would blur the memory samples
public sealed class SoakTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 12;
    private const int RatePerSecond = 4_000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Allowed growth of the median RSS from the middle to the last third of the run: 5 % of the middle third's plus
    /// 8 MiB. The median, not the mean: each generated day (≈ 52 s here) ends with a UTC day boundary that wakes every
    /// user with a re-evaluation due, a burst of ~100 MiB for ~10 s that each third holds once, of a size that varies
    /// with the users due; a leak raises the median as it raises the mean. The 20,000 simulated users are nearly all
    /// known by the middle third, so what may legitimately grow with distinct users (one pending timer and the key per
    /// user, ~100 B) has levelled off; resident user actors are bounded by passivation. A leak of ~75 bytes per record
    /// (200,000 records per third) would exceed the bound. Measured on the 2-core build machine with the thread-per-
    /// partition runtime (~128 MiB): +4.4, +4.8 and +6.0 MiB (means). On the Akka runtime (~240 MiB), 2026-12-03, means:
    /// +26.9 and +31.3 MiB before user loads were bounded, +9.7 and +9.2 after. (With a 600,000-user population still
    /// growing through the run, the old runtime grew +18 MiB, timers of new users, and +33 MiB without passivation.)
    /// </summary>
    private const double RelativeTolerance = 0.05;
    private const long AbsoluteToleranceBytes = 8L << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("sp-soak-").FullName;

    private static double Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2.0;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    [Trait("Category", "Soak")]
    public async Task SteadyRate_WithPassivation_MemoryStaysFlatAndEveryRecordIsProcessed()
    {
        var name = "soak-" + Guid.NewGuid().ToString("N")[..8];
        var run = new KafkaOptions
        {
            BootstrapServers = kafka.Bootstrap, ClickstreamTopic = name, SessionsTopic = $"{name}-sessions", SegmentChangesTopic = $"{name}-segments",
            DeadLetterTopic = $"{name}-dlq", ExperimentStatsTopic = $"{name}-xstats", ExperimentStateTopic = $"{name}-xstate", AlertsTopic = $"{name}-alerts",
        };
        foreach (var topic in new[] { run.ClickstreamTopic, run.SessionsTopic, run.SegmentChangesTopic, run.DeadLetterTopic, run.ExperimentStatsTopic, run.ExperimentStateTopic, run.AlertsTopic })
            kafka.Cluster.CreateTopic(topic, Partitions);
        var path = Path.Combine(_dir, "soak.db");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await store.InitializeAsync();
        // Debug level: each checkpoint logs how many entities it passivated, which the test sums.
        var args = RunComparison.NodeArgs(kafka, run, "soak", name, _dir, ["--store", "sqlite", "--set", $"Storage:Sqlite:Path={path}"])
            .Select(a => a == "Information" ? "Debug" : a)
            .Concat(["--set", "Node:PassivateAfter=00:00:05", "--set", "Node:CheckpointInterval=00:00:00.500", "--set", "Node:CheckpointMaxRecords=50000"]);
        using var node = NodeProcess.Start(args);
        await node.WaitForLogAsync("assigned partitions [", TimeSpan.FromMinutes(1));

        // Steady traffic: many users, short sessions, so the set of users touched keeps moving and idle ones must leave memory.
        var records = (long)(RatePerSecond * Duration.TotalSeconds);
        var generator = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = 83, Users = 20_000 });
        using var producer = SyntheticProducer.CreateBulkProducer(kafka.Bootstrap);
        var synthetic = new SyntheticProducer(producer, run.ClickstreamTopic);
        var clock = Stopwatch.StartNew();
        var producing = Task.Run(() => synthetic.Produce(generator.Generate(records), RatePerSecond, null, CancellationToken.None));

        var samples = new List<(double Seconds, long RssBytes, long Produced, long Checkpointed, long Passivated)>();
        var passivations = new PassivationCounter();
        while (!producing.IsCompleted)
        {
            Assert.False(node.HasExited, $"node exited with {(node.HasExited ? node.ExitCode : 0)}:\n{node.Log}");
            samples.Add((clock.Elapsed.TotalSeconds, ResidentBytes(node.Pid), synthetic.Delivered, await PipelineScenario.CheckpointedAsync(store), passivations.Update(node.Log)));
            await Task.WhenAny(producing, Task.Delay(SampleEvery));
        }
        var sent = await producing;
        var produceSeconds = clock.Elapsed.TotalSeconds;
        Assert.Equal(records, sent);
        Assert.Equal(0, synthetic.Failed);

        // Every record is processed: the checkpoints cover the whole log.
        await RunComparison.WaitForAsync(() => PipelineScenario.CheckpointedAsync(store), records, node);
        var drained = clock.Elapsed.TotalSeconds;
        var checkpoints = await store.LoadCheckpointsAsync(StreamNode.Scope);
        Assert.Equal(Partitions, checkpoints.Count);
        Assert.Equal(records, checkpoints.Sum(c => c.NextOffset));
        Assert.True(node.Terminate(TimeSpan.FromSeconds(60)), "the node did not stop on SIGTERM");
        Assert.True(node.ExitCode == 0, $"exit code {node.ExitCode}:\n{node.Log}");

        foreach (var s in samples) output.WriteLine($"{s.Seconds,6:F1} s  rss {s.RssBytes / 1048576.0,7:F1} MiB  produced {s.Produced,7}  lag {s.Produced - s.Checkpointed,6}  passivated {s.Passivated,7}");
        var third = samples.Count / 3;
        var middle = Median(samples.Skip(third).Take(third).Select(s => s.RssBytes));
        var last = Median(samples.Skip(samples.Count - third).Select(s => s.RssBytes));
        var bound = middle * (1 + RelativeTolerance) + AbsoluteToleranceBytes;
        output.WriteLine($"{records:N0} records at {RatePerSecond:N0}/s: produced in {produceSeconds:F1} s, all checkpointed after {drained:F1} s; {samples.Count} samples");
        output.WriteLine($"passivated {samples[^1].Passivated:N0} entities; max lag {samples.Max(s => s.Produced - s.Checkpointed):N0} records");
        output.WriteLine($"median RSS middle third {middle / 1048576:F1} MiB, last third {last / 1048576:F1} MiB ({(last - middle) / 1048576:+0.0;-0.0} MiB), bound {bound / 1048576:F1} MiB");
        Assert.True(samples.Count >= 30, $"only {samples.Count} memory samples");
        Assert.True(produceSeconds >= Duration.TotalSeconds * 0.95, $"the producer finished in {produceSeconds:F1} s: not a steady {RatePerSecond}/s");
        // Passivation is in steady state: entities keep leaving memory (and reloading) in the measured part of the run.
        var passivatedLastThird = samples[^1].Passivated - samples[samples.Count - third].Passivated;
        Assert.True(passivatedLastThird >= 1_000, $"only {passivatedLastThird} entities passivated in the last third");
        // The node kept up with the steady rate (lag below 10 s of input), so memory was not measured on a backlog.
        var maxLag = samples.Max(s => s.Produced - s.Checkpointed);
        Assert.True(maxLag < RatePerSecond * 10, $"lag reached {maxLag} records");
        Assert.True(last <= bound, $"resident memory grew from {middle / 1048576:F1} MiB to {last / 1048576:F1} MiB (bound {bound / 1048576:F1} MiB)");
    }

    /// <summary>Sums the "passivated N" counts of the node's per-checkpoint debug lines, reading only what is new in the log.</summary>
    private sealed class PassivationCounter
    {
        private static readonly System.Text.RegularExpressions.Regex Passivated = new(@"; passivated (\d+)", System.Text.RegularExpressions.RegexOptions.Compiled);
        private int _read;
        private long _total;

        public long Update(string log)
        {
            var end = log.LastIndexOf('\n') + 1;   // whole lines only
            if (end <= _read) return _total;
            foreach (System.Text.RegularExpressions.Match m in Passivated.Matches(log[_read..end])) _total += long.Parse(m.Groups[1].Value);
            _read = end;
            return _total;
        }
    }

    /// <summary>VmRSS of a process in bytes, from <c>/proc/&lt;pid&gt;/status</c> (Linux).</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;   // "VmRSS:	  123456 kB"
        throw new InvalidOperationException($"no VmRSS line for process {pid}");
    }
}
