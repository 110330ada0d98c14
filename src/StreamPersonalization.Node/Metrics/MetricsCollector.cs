using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace StreamPersonalization.Node.Metrics;

/// <summary>
/// Listens to the instruments of every meter whose name is <c>prefix</c> or starts with <c>prefix.</c> and keeps their
/// values per tag set: counters and up-down counters summed from the moment the collector starts, synchronous gauges
/// at their last value, observable instruments read at each <see cref="Collect"/>. A meter created with a
/// <see cref="Meter.Scope"/> (e.g. one node's meter) is only collected by a collector of the same scope, so two nodes
/// in one process do not report each other's gauges. Histograms are ignored. Measurement callbacks never throw.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    public const string DefaultPrefix = "StreamPersonalization";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentValues> _instruments = new();
    private readonly Lock _collecting = new();
    private readonly string _prefix;
    private readonly object? _scope;
    private readonly Action<Exception>? _observationFailed;

    /// <param name="scope">Scoped meters collected besides the unscoped ones (null: unscoped meters only).</param>
    /// <param name="observationFailed">Told when an observable instrument's callback throws; the other instruments are still read.</param>
    public MetricsCollector(string prefix = DefaultPrefix, object? scope = null, Action<Exception>? observationFailed = null)
    {
        _prefix = prefix;
        _scope = scope;
        _observationFailed = observationFailed;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!Accepts(instrument.Meter) || InstrumentValues.Create(instrument) is not { } values) return;
            _instruments[instrument] = values;
            listener.EnableMeasurementEvents(instrument, values);
        };
        _listener.MeasurementsCompleted = (instrument, state) => _instruments.TryRemove(instrument, out _);
        _listener.SetMeasurementEventCallback<byte>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<short>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<int>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<long>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<float>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<double>((_, m, tags, state) => Record(state, m, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, m, tags, state) => Record(state, (double)m, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and returns every collected instrument with its current values.</summary>
    public IReadOnlyList<MetricFamily> Collect()
    {
        lock (_collecting)
        {
            foreach (var values in _instruments.Values) values.BeginObservation();
            try { _listener.RecordObservableInstruments(); }
            catch (AggregateException failed) { foreach (var ex in failed.InnerExceptions) _observationFailed?.Invoke(ex); }
            catch (Exception ex) { _observationFailed?.Invoke(ex); }
            // Instruments of the same name (e.g. two meters of one name) share a family: their tag sets are summed.
            return _instruments.Values
                .GroupBy(v => v.Name, StringComparer.Ordinal)
                .Select(g => new MetricFamily(g.Key, g.First().Description, g.First().Kind,
                    g.SelectMany(v => v.Samples()).GroupBy(s => s.Key, StringComparer.Ordinal)
                        .Select(s => new MetricSample(s.First().Labels, s.Sum(x => x.Value))).ToList()))
                .ToList();
        }
    }

    public void Dispose() => _listener.Dispose();

    private bool Accepts(Meter meter) =>
        (meter.Name == _prefix || meter.Name.StartsWith(_prefix + ".", StringComparison.Ordinal))
        && (meter.Scope is null || ReferenceEquals(meter.Scope, _scope));

    private static void Record(object? state, double measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try { (state as InstrumentValues)?.Record(measurement, tags); }
        catch { /* a metrics fault must never reach the code that measured */ }
    }

    /// <summary>One instrument's values by tag set.</summary>
    private sealed class InstrumentValues
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly bool _sums;

        private InstrumentValues(Instrument instrument, MetricKind kind, bool sums)
        {
            Name = instrument.Name;
            Description = instrument.Description ?? "";
            Kind = kind;
            _sums = sums;
            Observable = instrument.IsObservable;
        }

        public string Name { get; }
        public string Description { get; }
        public MetricKind Kind { get; }
        private bool Observable { get; }

        /// <summary>Null for instruments this collector does not export (histograms).</summary>
        public static InstrumentValues? Create(Instrument instrument)
        {
            if (!instrument.GetType().IsGenericType) return null;
            var type = instrument.GetType().GetGenericTypeDefinition();
            if (type == typeof(Counter<>)) return new(instrument, MetricKind.Counter, sums: true);
            if (type == typeof(UpDownCounter<>)) return new(instrument, MetricKind.Gauge, sums: true);
            if (type == typeof(ObservableCounter<>)) return new(instrument, MetricKind.Counter, sums: false);   // observations are totals
            if (type == typeof(ObservableUpDownCounter<>) || type == typeof(ObservableGauge<>) || type == typeof(Gauge<>))
                return new(instrument, MetricKind.Gauge, sums: false);
            return null;
        }

        /// <summary>Observable instruments start each scrape empty: a tag set no longer observed (a revoked partition) disappears.</summary>
        public void BeginObservation()
        {
            if (Observable) _series.Clear();
        }

        public void Record(double measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var (key, labels) = Key(tags);
            var series = _series.GetOrAdd(key, static (_, l) => new Series(l), labels);
            if (_sums) series.Add(measurement); else series.Set(measurement);
        }

        public IEnumerable<(string Key, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)> Samples() =>
            _series.Select(s => (s.Key, s.Value.Labels, s.Value.Value));

        private static (string Key, IReadOnlyList<KeyValuePair<string, string>> Labels) Key(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0) return ("", []);
            var labels = new KeyValuePair<string, string>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
                labels[i] = KeyValuePair.Create(tags[i].Key, Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            Array.Sort(labels, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return (string.Join('\u0001', labels.Select(l => l.Key + '\u0002' + l.Value)), labels);
        }
    }

    private sealed class Series(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        private double _value;

        public IReadOnlyList<KeyValuePair<string, string>> Labels { get; } = labels;

        public double Value => Volatile.Read(ref _value);

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Add(double delta)
        {
            var current = Volatile.Read(ref _value);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _value, current + delta, current);
                if (seen.Equals(current)) return;
                current = seen;
            }
        }
    }
}
