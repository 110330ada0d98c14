using System.Globalization;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>
/// One shard's cumulative counters at a checkpoint. <see cref="Version"/> is what alerts are stamped with (use the
/// partition's checkpointed next offset: a replay reproduces it); <see cref="Rejected"/> is indexed by <see cref="RejectReason"/>.
/// </summary>
public sealed record DataQualitySample(long Version, long Records, IReadOnlyList<long> Rejected, long? WatermarkMs)
{
    /// <summary>A sample of a shard's counters (copied) at a checkpoint with next offset <paramref name="offset"/>.</summary>
    public static DataQualitySample From(ShardCounters counters, long offset, long? watermarkMs) =>
        new(offset, counters.Records, counters.Rejected.ToArray(), watermarkMs);

    /// <summary>Records rejected as <c>late_event</c>.</summary>
    public long Late => Count(RejectReason.LateEvent);

    /// <summary>Records rejected for any other reason (undecodable, invalid fields, too large, processing errors).</summary>
    public long Invalid => Rejected.Sum() - Late;

    /// <summary>The cumulative count of one reason (0 when the array is shorter).</summary>
    public long Count(RejectReason reason) => (int)reason < Rejected.Count ? Rejected[(int)reason] : 0;

    /// <inheritdoc />
    public override string ToString() => $"DataQualitySample(v{Version}: records={Records}, invalid={Invalid}, late={Late})";
}

/// <summary>
/// Data-quality alarms of one shard: over a sliding window of its last checkpoints (differences of cumulative counters
/// between the oldest and newest sample) it computes the invalid-event ratio and the late-event ratio and raises
/// <c>data_quality</c> alerts (subjects <c>invalid_events</c>, <c>late_events</c>) through an <see cref="AlertBook"/>: warning
/// above the warning ratio, critical above the critical ratio. With fewer than the minimum records in the window (an idle
/// partition) nothing is judged and raised alerts stay raised: silence is not evidence of recovery. Counters that go
/// backwards (a reset) restart the window. Pure and single-threaded; <see cref="ToBytes"/> keeps it across restarts.
/// </summary>
public sealed class DataQualityMonitor
{
    private readonly Queue<DataQualitySample> window = new();
    private readonly AlertBook book;
    private readonly DataQualityOptions options;

    /// <summary>A fresh monitor; <paramref name="scope"/> names the shard in alert keys (e.g. <c>clickstream/3</c>).</summary>
    public DataQualityMonitor(string scope, DataQualityOptions? options = null) : this(new AlertBook(scope), options) { }

    private DataQualityMonitor(AlertBook book, DataQualityOptions? options)
    {
        this.book = book;
        this.options = (options ?? DataQualityOptions.Default).Validate();
    }

    /// <summary>The shard this monitor watches.</summary>
    public string Scope => book.Scope;

    /// <summary>Currently raised alerts.</summary>
    public IReadOnlyList<Alert> Raised => book.Raised;

    /// <summary>Adds a checkpoint's counters and returns the alert changes (raised, escalated, resolved) to publish.</summary>
    public IReadOnlyList<Alert> Observe(DataQualitySample sample)
    {
        if (window.Count > 0 && sample.Records < window.Last().Records) window.Clear();
        window.Enqueue(sample);
        while (window.Count > options.WindowCheckpoints + 1) window.Dequeue();
        var oldest = window.Peek();
        var records = sample.Records - oldest.Records;
        if (window.Count < 2 || records < options.MinimumRecords) return [];

        var findings = new List<AlertFinding>();
        var invalid = sample.Invalid - oldest.Invalid;
        var late = sample.Late - oldest.Late;
        var invalidFinding = Judge("invalid_events", "invalid-event", invalid, records, options.InvalidWarningRatio, options.InvalidCriticalRatio);
        if (invalidFinding is not null)
        {
            // Name the reasons so the alert says what is wrong with the input, not only how much.
            var reasons = Enum.GetValues<RejectReason>().Where(r => r != RejectReason.LateEvent)
                .Select(r => new AlertEvidence($"rejected.{r.Code()}", sample.Count(r) - oldest.Count(r))).Where(e => e.Value > 0);
            findings.Add(invalidFinding with { Evidence = [.. invalidFinding.Evidence, .. reasons] });
        }
        if (Judge("late_events", "late-event", late, records, options.LateWarningRatio, options.LateCriticalRatio) is { } lateFinding) findings.Add(lateFinding);
        return book.Evaluate(findings, sample.Version, sample.WatermarkMs, options.QuietEvaluationsToResolve);
    }

    private AlertFinding? Judge(string subject, string what, long count, long records, double warning, double critical)
    {
        var ratio = (double)count / records;
        if (!(ratio > warning)) return null;
        var severity = ratio > critical ? AlertSeverity.Critical : AlertSeverity.Warning;
        var threshold = severity == AlertSeverity.Critical ? critical : warning;
        var message = string.Create(CultureInfo.InvariantCulture,
            $"{Scope}: {what} ratio {ratio:P2} ({count} of {records} records over the last {window.Count - 1} checkpoints) above {threshold:P2}");
        return new(AlertDetectors.DataQuality, subject, severity, message,
        [
            new("ratio", ratio), new("threshold", threshold), new("count", count), new("records", records), new("checkpoints", window.Count - 1),
        ]);
    }

    /// <summary>Binary format version of <see cref="ToBytes"/>.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Versioned binary form of the window and the alert book (options are not stored; pass them to <see cref="FromBytes"/>).</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(FormatVersion);
            w.Write(window.Count);
            foreach (var s in window)
            {
                w.Write(s.Version); w.Write(s.Records); w.Write(s.WatermarkMs.HasValue); w.Write(s.WatermarkMs ?? 0);
                w.Write(s.Rejected.Count);
                foreach (var r in s.Rejected) w.Write(r);
            }
            book.WriteTo(w);
        }
        return ms.ToArray();
    }

    /// <summary>Restores <see cref="ToBytes"/> output; throws <see cref="InvalidDataException"/> for an unknown version or truncated bytes.</summary>
    public static DataQualityMonitor FromBytes(byte[] bytes, DataQualityOptions? options = null)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
            var version = r.ReadByte();
            if (version != FormatVersion) throw new InvalidDataException($"data-quality monitor format {version} is not supported (expected {FormatVersion})");
            var samples = new List<DataQualitySample>();
            for (int i = 0, n = r.ReadInt32(); i < n; i++)
            {
                var (v, records, hasWatermark, watermark) = (r.ReadInt64(), r.ReadInt64(), r.ReadBoolean(), r.ReadInt64());
                var count = r.ReadInt32();
                if (count < 0) throw new InvalidDataException("negative reason count");
                var rejected = new long[count];
                for (var j = 0; j < count; j++) rejected[j] = r.ReadInt64();
                samples.Add(new(v, records, rejected, hasWatermark ? watermark : null));
            }
            var monitor = new DataQualityMonitor(AlertBook.ReadFrom(r), options);
            foreach (var s in samples) monitor.window.Enqueue(s);
            while (monitor.window.Count > monitor.options.WindowCheckpoints + 1) monitor.window.Dequeue();
            return monitor;
        }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated data-quality monitor", e); }
    }

    /// <inheritdoc />
    public override string ToString() => $"DataQualityMonitor({Scope}: {window.Count} samples, {book.Raised.Count} raised)";
}
