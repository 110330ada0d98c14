using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

public class DataQualityMonitorTests
{
    /// <summary>
    /// Feeds checkpoints with the given per-checkpoint (records, not_json, late) increments as cumulative counters, the way a
    /// shard's <see cref="ShardCounters"/> grow, and returns every change.
    /// </summary>
    private static List<Alert> Feed(DataQualityMonitor monitor, ShardCounters counters, IEnumerable<(long Records, long Invalid, long Late)> checkpoints, ref long offset)
    {
        var changes = new List<Alert>();
        foreach (var (records, invalid, late) in checkpoints)
        {
            counters.Records += records;
            counters.Rejected[(int)RejectReason.NotJson] += invalid;
            counters.Rejected[(int)RejectReason.LateEvent] += late;
            offset += records;
            changes.AddRange(monitor.Observe(DataQualitySample.From(counters, offset, 1_000 + offset)));
        }
        return changes;
    }

    [Fact]
    public void Observe_RatiosAroundThresholds_RaiseEscalateAndResolveWithHysteresis()
    {
        var options = new DataQualityOptions { WindowCheckpoints = 4, MinimumRecords = 1000, QuietEvaluationsToResolve = 2 };
        var monitor = new DataQualityMonitor("clickstream/3", options);
        var counters = new ShardCounters();
        long offset = 0;

        // Exactly 5 % invalid and 1 % late is not above the thresholds.
        Assert.Empty(Feed(monitor, counters, Enumerable.Repeat((1000L, 50L, 10L), 6), ref offset));

        // 8 % invalid per checkpoint: the 4-checkpoint window reaches (3·50 + 80)/4000 = 5.75 % at the first such checkpoint.
        var raised = Assert.Single(Feed(monitor, counters, [(1000, 80, 10)], ref offset));
        Assert.Equal(("clickstream/3/data_quality/invalid_events", AlertState.Raised, AlertSeverity.Warning), (raised.Key, raised.State, raised.Severity));
        var evidence = raised.Evidence.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(230.0 / 4000, evidence["ratio"], 15);
        Assert.Equal(0.05, evidence["threshold"]);
        Assert.Equal(4000, evidence["records"]);
        Assert.Equal(230, evidence["rejected.not_json"]);
        Assert.Equal(offset, raised.Version);
        Assert.Equal(1_000 + offset, raised.EventTimeMs);

        // 50 % invalid: the window passes 20 % at (80 + 50 + 50 + 500)/4000 = 17 %, then (80 + 50 + 500 + 500)/4000 = 28.25 % → critical.
        var escalations = Feed(monitor, counters, [(1000, 500, 10), (1000, 500, 10)], ref offset);
        Assert.Equal([AlertSeverity.Critical], escalations.Select(a => a.Severity));
        // Late events at 3 % per checkpoint: the window passes 1 % at the first such checkpoint ((3·10 + 30)/4000 = 1.5 %) → warning.
        var late = Feed(monitor, counters, Enumerable.Repeat((1000L, 0L, 30L), 4), ref offset);
        Assert.Contains(late, a => a.Subject == "late_events" && a.State == AlertState.Raised && a.Severity == AlertSeverity.Warning);

        // Clean input: the invalid window drops below 5 % only once the 500s have left it; resolution then takes 2 quiet checkpoints.
        var clean = Feed(monitor, counters, Enumerable.Repeat((1000L, 0L, 0L), 6), ref offset);
        Assert.Equal(["invalid_events", "late_events"], clean.Where(a => a.State == AlertState.Resolved).Select(a => a.Subject).Order());
        Assert.Empty(monitor.Raised);
    }

    [Fact]
    public void Observe_IdleWindowBelowMinimumRecords_HoldsRaisedAlert()
    {
        var monitor = new DataQualityMonitor("p0", new DataQualityOptions { WindowCheckpoints = 2, MinimumRecords = 500, QuietEvaluationsToResolve = 1 });
        var counters = new ShardCounters();
        long offset = 0;
        Assert.Single(Feed(monitor, counters, [(1000, 0, 0), (1000, 300, 0)], ref offset));
        Assert.Empty(Feed(monitor, counters, Enumerable.Repeat((10L, 0L, 0L), 10), ref offset));
        Assert.Single(monitor.Raised);
    }

    [Fact]
    public void Observe_CountersGoBackwards_RestartsWindow()
    {
        var monitor = new DataQualityMonitor("p0", new DataQualityOptions { WindowCheckpoints = 3, MinimumRecords = 100 });
        Assert.Empty(monitor.Observe(new(1, 10_000, [0, 0], null)));
        // A reset to fewer records than before: no difference is taken across it (it would be negative).
        Assert.Empty(monitor.Observe(new(2, 50, [0, 50], null)));
        var raised = Assert.Single(monitor.Observe(new(3, 250, [0, 200], null)));
        Assert.Equal(150.0 / 200, raised.Evidence[0].Value, 15);
    }

    /// <summary>Seeded random increments: the monitor's decisions equal ratios computed from the increments of the last N checkpoints directly.</summary>
    [Fact]
    public void Observe_RandomCheckpoints_MatchDirectWindowSums()
    {
        var rng = new Random(17);
        var options = new DataQualityOptions { WindowCheckpoints = 5, MinimumRecords = 2000, QuietEvaluationsToResolve = 1 };
        var monitor = new DataQualityMonitor("p1", options);
        var counters = new ShardCounters();
        var increments = new List<(long Records, long Invalid, long Late)>();
        long offset = 0;
        for (var i = 0; i < 400; i++)
        {
            var records = (long)rng.Next(0, 1000);
            var step = (records, (long)(records * rng.NextDouble() * 0.12), (long)(records * rng.NextDouble() * 0.03));
            increments.Add(step);
            Feed(monitor, counters, [step], ref offset);
            if (i % 37 == 0) monitor = DataQualityMonitor.FromBytes(monitor.ToBytes(), options);
            var window = increments.TakeLast(options.WindowCheckpoints).ToList();
            if (increments.Count <= options.WindowCheckpoints) window = increments.Skip(1).ToList();   // the first sample is only a baseline
            var sum = window.Sum(w => w.Records);
            if (sum < options.MinimumRecords) continue;
            var expected = new List<(string, AlertSeverity)>();
            var invalid = (double)window.Sum(w => w.Invalid) / sum;
            var late = (double)window.Sum(w => w.Late) / sum;
            if (invalid > 0.05) expected.Add(("invalid_events", invalid > 0.20 ? AlertSeverity.Critical : AlertSeverity.Warning));
            if (late > 0.01) expected.Add(("late_events", late > 0.05 ? AlertSeverity.Critical : AlertSeverity.Warning));
            Assert.Equal(expected.Select(e => e.Item1), monitor.Raised.Select(a => a.Subject));
            // The book never announces a lower severity, so a raised alert is at least as severe as the current ratio.
            Assert.All(expected.Zip(monitor.Raised), p => Assert.True(p.Second.Severity >= p.First.Item2));
        }
    }

    [Fact]
    public void FromBytes_UnknownVersionOrTruncated_ThrowsInvalidData()
    {
        var monitor = new DataQualityMonitor("p0");
        monitor.Observe(new(1, 10, [0, 1], 5));
        var bytes = monitor.ToBytes();
        Assert.Throws<InvalidDataException>(() => DataQualityMonitor.FromBytes(bytes[..^3]));
        bytes[0] = 7;
        Assert.Throws<InvalidDataException>(() => DataQualityMonitor.FromBytes(bytes));
    }

    [Fact]
    public void Validate_OutOfRange_NamesKeyAndAllowedValues()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DataQualityOptions { LateCriticalRatio = 0.001 }.Validate());
        Assert.Contains("DataQuality:LateCriticalRatio", e.Message);
        Assert.Contains("allowed: [0.01", e.Message);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorOptions { EwmaLambda = 0 }.Validate());
        Assert.Contains("Configuration key 'Detectors:EwmaLambda' is 0; allowed: (0, 1]", d.Message);
    }
}
