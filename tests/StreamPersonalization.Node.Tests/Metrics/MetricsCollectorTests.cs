using System.Diagnostics.Metrics;
using StreamPersonalization.Node.Metrics;

namespace StreamPersonalization.Node.Tests.Metrics;

public sealed class MetricsCollectorTests : IDisposable
{
    // A prefix no other test's meter has: collectors of parallel tests never see these meters.
    private readonly string _prefix = $"StreamPersonalization.Test{Guid.NewGuid():N}";
    private readonly List<IDisposable> _disposables = [];

    private Meter NewMeter(string suffix = "M", object? scope = null) => Track(new Meter(new MeterOptions($"{_prefix}.{suffix}") { Scope = scope }));

    private MetricsCollector NewCollector(object? scope = null, Action<Exception>? failed = null) => Track(new MetricsCollector(_prefix, scope, failed));

    private T Track<T>(T disposable) where T : IDisposable { _disposables.Add(disposable); return disposable; }

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    private static Dictionary<string, double> Values(IReadOnlyList<MetricFamily> families, string name) =>
        families.Single(f => f.Name == name).Samples.ToDictionary(s => string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")), s => s.Value);

    [Fact]
    public void Collect_CountersAndUpDownCounters_SummedPerTagSet()
    {
        var collector = NewCollector();
        var meter = NewMeter();
        var counter = meter.CreateCounter<long>("test.retries", description: "Retries");
        var stalled = meter.CreateUpDownCounter<int>("test.stalled");

        counter.Add(1, Tag("partition", 0));
        counter.Add(2, Tag("partition", 0));
        counter.Add(5, Tag("partition", 1), Tag("kind", "read"));
        counter.Add(1, Tag("kind", "read"), Tag("partition", 1));   // same tag set, other order
        stalled.Add(1, Tag("partition", 0));
        stalled.Add(1, Tag("partition", 1));
        stalled.Add(-1, Tag("partition", 0));

        var families = collector.Collect();
        var retries = families.Single(f => f.Name == "test.retries");
        Assert.Equal(MetricKind.Counter, retries.Kind);
        Assert.Equal("Retries", retries.Description);
        Assert.Equal(new Dictionary<string, double> { ["partition=0"] = 3, ["kind=read,partition=1"] = 6 }, Values(families, "test.retries"));
        Assert.Equal(MetricKind.Gauge, families.Single(f => f.Name == "test.stalled").Kind);
        Assert.Equal(new Dictionary<string, double> { ["partition=0"] = 0, ["partition=1"] = 1 }, Values(families, "test.stalled"));
    }

    [Fact]
    public void Collect_ObservableInstruments_ReadAtEachCollectAndVanishedTagSetsDropped()
    {
        var collector = NewCollector();
        var meter = NewMeter();
        var queued = new Dictionary<int, long> { [0] = 4, [1] = 7 };
        meter.CreateObservableGauge("test.queued", () => queued.Select(q => new Measurement<long>(q.Value, Tag("partition", q.Key))));
        long total = 10;
        meter.CreateObservableCounter("test.records", () => total);

        var first = collector.Collect();
        queued.Remove(1);
        queued[0] = 2;
        total = 15;
        var second = collector.Collect();

        Assert.Equal(new Dictionary<string, double> { ["partition=0"] = 4, ["partition=1"] = 7 }, Values(first, "test.queued"));
        Assert.Equal(new Dictionary<string, double> { ["partition=0"] = 2 }, Values(second, "test.queued"));
        Assert.Equal(MetricKind.Counter, second.Single(f => f.Name == "test.records").Kind);
        Assert.Equal(15, Values(second, "test.records")[""]);   // an observed total, not a sum of observations
    }

    [Fact]
    public void Collect_OnlyMetersOfThePrefixAndOfTheCollectorsScope()
    {
        var scope = new object();
        var collector = NewCollector(scope);
        NewMeter("Unscoped").CreateCounter<long>("test.unscoped").Add(1);
        NewMeter("Mine", scope).CreateObservableGauge("test.mine", () => 1);
        NewMeter("Theirs", new object()).CreateObservableGauge("test.theirs", () => 1);
        using var outside = new Meter($"Other{_prefix}");
        outside.CreateCounter<long>("test.outside").Add(1);
        using var lookalike = new Meter($"{_prefix}Suffix");   // the prefix must end at a dot
        lookalike.CreateCounter<long>("test.lookalike").Add(1);

        var names = collector.Collect().Select(f => f.Name).Order().ToList();

        Assert.Equal(["test.mine", "test.unscoped"], names);
    }

    [Fact]
    public void Collect_ThrowingObservableCallback_ReportsItAndStillReadsTheOthers()
    {
        var failures = new List<Exception>();
        var collector = NewCollector(failed: failures.Add);
        var meter = NewMeter();
        meter.CreateObservableGauge("test.broken", (Func<int>)(() => throw new InvalidOperationException("boom")));
        meter.CreateObservableGauge("test.fine", () => 3);

        var families = collector.Collect();

        Assert.Equal(3, Values(families, "test.fine")[""]);
        Assert.Equal("boom", Assert.Single(failures).Message);
    }

    [Fact]
    public void Add_TagWhoseValueCannotBeFormatted_DoesNotThrowIntoTheCaller()
    {
        var collector = NewCollector();
        var counter = NewMeter().CreateCounter<long>("test.counter");

        var thrown = Record.Exception(() => counter.Add(1, Tag("bad", new UnprintableValue())));
        counter.Add(2, Tag("partition", 0));

        Assert.Null(thrown);
        Assert.Equal(new Dictionary<string, double> { ["partition=0"] = 2 }, Values(collector.Collect(), "test.counter"));
    }

    [Fact]
    public void Collect_DisposedMeter_ItsInstrumentsAreGone()
    {
        var collector = NewCollector();
        var meter = NewMeter();
        meter.CreateObservableGauge("test.gauge", () => 1);
        Assert.Contains(collector.Collect(), f => f.Name == "test.gauge");

        meter.Dispose();

        Assert.DoesNotContain(collector.Collect(), f => f.Name == "test.gauge");
    }

    [Fact]
    public void Collect_HistogramsAndMeasurementsBeforeTheCollectorStarted_AreNotExported()
    {
        var meter = NewMeter();
        var counter = meter.CreateCounter<long>("test.counter");
        meter.CreateHistogram<double>("test.latency").Record(1.5);
        counter.Add(5);
        var collector = NewCollector();
        counter.Add(1);

        var families = collector.Collect();

        Assert.DoesNotContain(families, f => f.Name == "test.latency");
        Assert.Equal(1, Values(families, "test.counter")[""]);
    }

    public void Dispose()
    {
        foreach (var d in Enumerable.Reverse(_disposables)) d.Dispose();
    }

    private sealed class UnprintableValue
    {
        public override string ToString() => throw new FormatException("no text for this value");
    }
}
