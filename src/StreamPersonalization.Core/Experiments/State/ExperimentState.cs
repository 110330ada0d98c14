using StreamPersonalization.Core.Experiments.Alerts;
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
/// Detectors live here too, so they are checkpointed with the sums: the one-sided guardrail tests take the same
/// one-look-per-delta cadence (<see cref="GuardrailMonitor"/>), the per-minute rate charts are fed by the deltas'
/// watermarks (<see cref="MinuteRateMonitor"/>, whose minutes also depend on interleaving), and the
/// <see cref="AlertBook"/> de-duplicates what <see cref="EvaluateAlerts"/> reports.
/// </summary>
public sealed class ExperimentState
{
    private readonly SortedDictionary<string, ArmAggregate> arms = new(StringComparer.Ordinal);
    private readonly SortedDictionary<int, long> marks = new();
    private readonly SortedDictionary<string, MsprtState> msprt = new(StringComparer.Ordinal);
    private MinuteRateMonitor minutes;
    private GuardrailMonitor guardrails;
    private AlertBook alerts;

    /// <summary>
    /// Creates an empty state. τ² (<paramref name="msprtMixingVariance"/>) should be on the scale of plausible squared effects;
    /// <paramref name="detectors"/> fixes the chart, series and guardrail-τ² settings for the state's lifetime (default: <see cref="DetectorOptions.Default"/>).
    /// </summary>
    public ExperimentState(string experimentId, string controlVariantId, MetricKind metric, double msprtMixingVariance, DetectorOptions? detectors = null)
    {
        ExperimentId = experimentId;
        ControlVariantId = controlVariantId;
        Metric = metric;
        MsprtMixingVariance = msprtMixingVariance;
        var o = (detectors ?? DetectorOptions.Default).Validate();
        minutes = new MinuteRateMonitor(o);
        guardrails = new GuardrailMonitor(o);
        alerts = new AlertBook(experimentId);
    }

    /// <summary>
    /// Creates an empty state for a shape. Default τ²: 10⁻⁴ for binary metrics (a one-point rate lift); 1 for continuous
    /// metrics, which callers should replace with the square of a plausible effect in the metric's units.
    /// </summary>
    public static ExperimentState For(ExperimentShape shape, double? msprtMixingVariance = null, DetectorOptions? detectors = null) =>
        new(shape.ExperimentId, shape.ControlVariantId, shape.PrimaryMetric, msprtMixingVariance ?? (shape.PrimaryMetric == MetricKind.Binary ? 1e-4 : 1.0), detectors);

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
    /// <summary>Largest source-shard watermark of the applied deltas (null while none carried one): the event time alerts are stamped with.</summary>
    public long? WatermarkMs { get; private set; }
    /// <summary>Per-arm per-minute series and rate charts.</summary>
    public MinuteRateMonitor Minutes => minutes;
    /// <summary>One-sided guardrail tests per (treatment arm, metric).</summary>
    public GuardrailMonitor Guardrails => guardrails;
    /// <summary>Alerts currently raised for this experiment (as of the last <see cref="EvaluateAlerts"/>).</summary>
    public IReadOnlyList<Alert> RaisedAlerts => alerts.Raised;

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
        minutes.Add(d.WatermarkMs, d.Arms);
        if (d.WatermarkMs is { } wm && (WatermarkMs is null || wm > WatermarkMs)) WatermarkMs = wm;
        if (arms.TryGetValue(ControlVariantId, out var control)) guardrails.Look(arms.Values, control);
        return ApplyOutcome.Applied;
    }

    /// <summary>
    /// Runs the detectors on this state and <paramref name="snapshot"/> (its SRM verdict) and folds the findings into the
    /// alert book. Returns the alert changes to publish (stamped with <see cref="Sequence"/> and <see cref="WatermarkMs"/>)
    /// and the snapshot with its <c>alerts</c> replaced by the currently raised ones. Call it once per published snapshot,
    /// before checkpointing the state: the book's hysteresis counts these calls. <paramref name="policy"/> comes from the
    /// definition (<see cref="AlertPolicy.From"/>); <paramref name="options"/> supplies α and the hysteresis length.
    /// </summary>
    public AlertEvaluation EvaluateAlerts(ExperimentSnapshot snapshot, ExperimentShape shape, AlertPolicy policy, DetectorOptions? options = null) =>
        ExperimentDetectors.Evaluate(this, alerts, snapshot, shape, policy, (options ?? DetectorOptions.Default).Validate());

    /// <summary>
    /// An independent copy (through the checkpoint format), so alerts can be evaluated on it and the result adopted only
    /// once published and committed: a failed publish leaves this book untouched, and the retry reports the changes again.
    /// </summary>
    public ExperimentState Copy() => FromBytes(ToBytes());

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
    /// Binary format version of <see cref="ToBytes"/>. Format 2 adds each arm's value histogram and appends the
    /// watermark, the minute monitor, the guardrail monitor and the alert book; format 1 checkpoints are still read
    /// (empty histograms, so arms holding users counted before the upgrade report no rank test; detectors start fresh).
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
            w.Write(WatermarkMs.HasValue);
            w.Write(WatermarkMs ?? 0);
            minutes.WriteTo(w);
            guardrails.WriteTo(w);
            alerts.WriteTo(w);
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
        if (version == 1) return s;
        var (hasWatermark, watermark) = (r.ReadBoolean(), r.ReadInt64());
        s.WatermarkMs = hasWatermark ? watermark : null;
        s.minutes = MinuteRateMonitor.ReadFrom(r);
        s.guardrails = GuardrailMonitor.ReadFrom(r);
        s.alerts = AlertBook.ReadFrom(r);
        if (s.alerts.Scope != s.ExperimentId) throw new InvalidDataException($"alert book of '{s.alerts.Scope}' in the state of '{s.ExperimentId}'");
        return s;
    }
}
