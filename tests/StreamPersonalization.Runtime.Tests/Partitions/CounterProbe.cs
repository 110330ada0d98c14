using System.Diagnostics.Metrics;
using StreamPersonalization.Runtime.Partitions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary>Sums one <see cref="PartitionMetrics"/> counter from the moment it is made (every partition, every test of
/// the process: assert lower bounds).</summary>
internal sealed class CounterProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value;

    public CounterProbe(string instrument)
    {
        _listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == PartitionMetrics.MeterName && i.Name == instrument) l.EnableMeasurementEvents(i); };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _value, value));
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();
}
