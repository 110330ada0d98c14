namespace StreamPersonalization.Node.Metrics;

/// <summary>How a metric is exposed: a counter only goes up (rates, increases); a gauge is a current value.</summary>
public enum MetricKind { Counter, Gauge }

/// <summary>
/// One instrument's current values, one <see cref="MetricSample"/> per tag set, as read at a scrape.
/// <paramref name="Name"/> is the instrument name (e.g. <c>sp.shard.queued</c>); <see cref="PrometheusTextWriter"/> turns it
/// into a Prometheus name.
/// </summary>
public sealed record MetricFamily(string Name, string Description, MetricKind Kind, IReadOnlyList<MetricSample> Samples);

/// <summary>A value and its tags (label name, label value).</summary>
public sealed record MetricSample(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
{
    public MetricSample(double value, params (string Name, string Value)[] labels)
        : this(labels.Select(l => KeyValuePair.Create(l.Name, l.Value)).ToList(), value)
    {
    }
}
