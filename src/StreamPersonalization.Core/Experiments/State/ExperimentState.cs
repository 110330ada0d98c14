using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// State of one experiment entity, owned by a single thread of the <c>sp-experiments</c> stage (hence mutable and
/// unsynchronised). Exactly-once: a delta is applied only when its From equals the high-water mark of its source
/// partition (0 for a partition not seen yet, since shards number ranges from the partition's first checkpoint);
/// the mark then moves to To. Sums commute, so arm totals do not depend on how partitions interleave.
/// The mSPRT state of every treatment arm is updated after each applied delta: the peeking cadence of the
/// always-valid p-value is "one look per applied delta", which the mSPRT tolerates by construction. Because it is
/// a running minimum over looks, it (unlike the sums) depends on the interleaving of partitions.
/// </summary>
public sealed class ExperimentState
{
    private readonly SortedDictionary<string, ArmAggregate> arms = new(StringComparer.Ordinal);
    private readonly SortedDictionary<int, long> marks = new();
    private readonly SortedDictionary<string, MsprtState> msprt = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state. τ² (<paramref name="msprtMixingVariance"/>) should be on the scale of plausible squared effects.</summary>
    public ExperimentState(string experimentId, string controlVariantId, MetricKind metric, double msprtMixingVariance)
    {
        ExperimentId = experimentId;
        ControlVariantId = controlVariantId;
        Metric = metric;
        MsprtMixingVariance = msprtMixingVariance;
    }

    /// <summary>
    /// Creates an empty state for a shape. Default τ²: 10⁻⁴ for binary metrics (a one-point rate lift); 1 for continuous
    /// metrics, which callers should replace with the square of a plausible effect in the metric's units.
    /// </summary>
    public static ExperimentState For(ExperimentShape shape, double? msprtMixingVariance = null) =>
        new(shape.ExperimentId, shape.ControlVariantId, shape.PrimaryMetric, msprtMixingVariance ?? (shape.PrimaryMetric == MetricKind.Binary ? 1e-4 : 1.0));

    /// <summary>The experiment this entity owns.</summary>
    public string ExperimentId { get; }
    /// <summary>The arm every mSPRT compares against.</summary>
    public string ControlVariantId { get; }
    /// <summary>Which sums form the primary metric.</summary>
    public MetricKind Metric { get; }
    /// <summary>τ² of the per-arm mSPRT mixtures.</summary>
    public double MsprtMixingVariance { get; }
    /// <summary>Number of applied deltas; used as the snapshot version so published snapshots are monotone and deterministic.</summary>
    public long Sequence { get; private set; }

    /// <summary>Arm sums in ordinal order of variant id.</summary>
    public IReadOnlyCollection<ArmAggregate> Arms => arms.Values;
    /// <summary>High-water mark (next expected offset) per source partition.</summary>
    public IReadOnlyDictionary<int, long> Marks => marks;
    /// <summary>Always-valid test state per treatment arm (vs control).</summary>
    public IReadOnlyDictionary<string, MsprtState> Msprt => msprt;

    /// <summary>The arm's sums, or an empty arm.</summary>
    public ArmAggregate Arm(string variantId) => arms.TryGetValue(variantId, out var a) ? a : ArmAggregate.Empty(variantId);

    /// <summary>The stored mark of a partition (0 if none yet).</summary>
    public long Mark(int partition) => marks.TryGetValue(partition, out var m) ? m : 0;

    /// <summary>Applies the delta if it is the next range of its partition; otherwise reports why not and changes nothing.</summary>
    public ApplyOutcome Apply(ExperimentDelta d)
    {
        if (d.ExperimentId != ExperimentId || d.To <= d.From) return ApplyOutcome.Invalid;
        var mark = Mark(d.SourcePartition);
        if (d.To <= mark) return ApplyOutcome.Duplicate;
        if (d.From > mark) return ApplyOutcome.Gap;
        if (d.From < mark) return ApplyOutcome.Overlap;
        foreach (var a in d.Arms) arms[a.VariantId] = Arm(a.VariantId).Add(a);
        marks[d.SourcePartition] = d.To;
        Sequence++;
        LookMsprt();
        return ApplyOutcome.Applied;
    }

    /// <summary>One mSPRT look per treatment arm at the cumulative data; invalid looks (too few users, zero variance) leave it unchanged.</summary>
    private void LookMsprt()
    {
        if (!arms.TryGetValue(ControlVariantId, out var control)) return;
        var (cs, css) = control.Metric(Metric);
        var (cm, cv) = ArmAggregate.Moments(control.Users, cs, css);
        foreach (var arm in arms.Values)
        {
            if (arm.VariantId == ControlVariantId) continue;
            var (s, ss) = arm.Metric(Metric);
            var (m, v) = ArmAggregate.Moments(arm.Users, s, ss);
            var estimate = Statistics.Sequential.Msprt.DifferenceInMeans(control.Users, cm, cv, arm.Users, m, v);
            var current = msprt.TryGetValue(arm.VariantId, out var st) ? st : MsprtState.Start(MsprtMixingVariance);
            msprt[arm.VariantId] = current.Update(estimate).State;
        }
    }

    /// <summary>
    /// Binary format version of <see cref="ToBytes"/>. 2 added each arm's value histogram; version-1 checkpoints are
    /// still read with empty histograms, so arms holding users counted before the upgrade report no rank test.
    /// </summary>
    public const byte FormatVersion = 2;

    /// <summary>Compact binary checkpoint of the whole state.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(FormatVersion);
            w.Write(ExperimentId);
            w.Write(ControlVariantId);
            w.Write((byte)Metric);
            w.Write(MsprtMixingVariance);
            w.Write(Sequence);
            w.Write(arms.Count);
            foreach (var a in arms.Values) a.WriteTo(w);
            w.Write(marks.Count);
            foreach (var (p, m) in marks) { w.Write(p); w.Write(m); }
            w.Write(msprt.Count);
            foreach (var (v, s) in msprt) { w.Write(v); w.Write(s.MixingVariance); w.Write(s.PValue); w.Write(s.Looks); }
        }
        return ms.ToArray();
    }

    /// <summary>Restores a checkpoint (formats 1 and 2); throws <see cref="InvalidDataException"/> for an unknown version or truncated bytes.</summary>
    public static ExperimentState FromBytes(byte[] bytes)
    {
        try { return Read(bytes); }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated experiment state", e); }
    }

    private static ExperimentState Read(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        var version = r.ReadByte();
        if (version is not (1 or FormatVersion)) throw new InvalidDataException($"experiment state format {version} is not supported (expected 1 or {FormatVersion})");
        var s = new ExperimentState(r.ReadString(), r.ReadString(), (MetricKind)r.ReadByte(), r.ReadDouble()) { Sequence = r.ReadInt64() };
        for (int i = 0, n = r.ReadInt32(); i < n; i++) { var a = ArmAggregate.ReadFrom(r, version); s.arms[a.VariantId] = a; }
        for (int i = 0, n = r.ReadInt32(); i < n; i++) s.marks[r.ReadInt32()] = r.ReadInt64();
        for (int i = 0, n = r.ReadInt32(); i < n; i++) s.msprt[r.ReadString()] = new MsprtState(r.ReadDouble(), r.ReadDouble(), r.ReadInt64());
        return s;
    }
}
