using StreamPersonalization.Node.Metrics;

namespace StreamPersonalization.Node.Tests.Metrics;

public sealed class PrometheusTextWriterTests
{
    [Fact]
    public void Write_Families_ProducesSortedEscapedExposition()
    {
        var families = new[]
        {
            new MetricFamily("sp.shard.queued", "Records buffered", MetricKind.Gauge, [new(3, ("partition", "10")), new(5, ("partition", "2"))]),
            new MetricFamily("sp.shard.poison_records", "Poison \\ records\nsecond line", MetricKind.Counter,
                [new(2, ("reason", "a\"b\\c\nd"), ("partition", "0"))]),
            new MetricFamily("sp.node.ready", "Ready", MetricKind.Gauge, [new MetricSample(1)]),
        };

        var text = PrometheusTextWriter.Write(families);

        Assert.Equal(
            """
            # HELP sp_node_ready Ready
            # TYPE sp_node_ready gauge
            sp_node_ready 1
            # HELP sp_shard_poison_records_total Poison \\ records\nsecond line
            # TYPE sp_shard_poison_records_total counter
            sp_shard_poison_records_total{partition="0",reason="a\"b\\c\nd"} 2
            # HELP sp_shard_queued Records buffered
            # TYPE sp_shard_queued gauge
            sp_shard_queued{partition="2"} 5
            sp_shard_queued{partition="10"} 3

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Write_SameInputInAnyOrder_GivesTheSameText()
    {
        MetricSample[] samples = [new(1, ("p", "1"), ("s", "b")), new(2, ("s", "a"), ("p", "1")), new(3, ("p", "0"), ("s", "z"))];
        var forward = PrometheusTextWriter.Write([new MetricFamily("x", "", MetricKind.Gauge, samples)]);
        var backward = PrometheusTextWriter.Write([new MetricFamily("x", "", MetricKind.Gauge, samples.Reverse().ToArray())]);

        Assert.Equal(forward, backward);
        Assert.Equal(["x{p=\"0\",s=\"z\"} 3", "x{p=\"1\",s=\"a\"} 2", "x{p=\"1\",s=\"b\"} 1"], forward.Split('\n').Where(l => l.StartsWith('x')));
    }

    [Theory]
    [InlineData("requests_total", MetricKind.Counter, "requests_total")]
    [InlineData("sp.shard.records", MetricKind.Counter, "sp_shard_records_total")]
    [InlineData("sp.shard.queued", MetricKind.Gauge, "sp_shard_queued")]
    [InlineData("1st-metric/µs", MetricKind.Gauge, "_1st_metric__s")]
    [InlineData("ns:name", MetricKind.Gauge, "ns:name")]
    public void ExposedName_InstrumentName_IsAValidPrometheusName(string instrument, MetricKind kind, string expected) =>
        Assert.Equal(expected, PrometheusTextWriter.ExposedName(new MetricFamily(instrument, "", kind, [])));

    [Fact]
    public void Write_LabelNamesWithInvalidCharacters_BecomeUnderscores() =>
        Assert.Contains("g{my_label=\"v\"} 1\n", PrometheusTextWriter.Write([new MetricFamily("g", "", MetricKind.Gauge, [new(1, ("my.label", "v"))])]));

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(12345678901d, "12345678901")]
    [InlineData(-3d, "-3")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    public void FormatValue_Double_UsesPrometheusSpelling(double value, string expected) =>
        Assert.Equal(expected, PrometheusTextWriter.FormatValue(value));
}
