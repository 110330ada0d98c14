using System.Globalization;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Detectors;
using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>
/// The always-valid one-sided tests of one (treatment arm, guardrail metric): harm = decrease and harm = increase, the
/// latest difference θ̂ = treatment − control with its variance V, and the looks taken.
/// </summary>
public sealed record GuardrailTrack(string VariantId, string Metric, OneSidedMsprtState Decrease, OneSidedMsprtState Increase, double Difference, double Variance)
{
    /// <summary>The test for a guardrail's direction.</summary>
    public OneSidedMsprtState For(GuardrailDirection direction) => direction == GuardrailDirection.MustNotDecrease ? Decrease : Increase;
}

/// <summary>
/// Guardrail breach detection on the per-arm sums. Every applied delta is one look, for every treatment arm, at both
/// supported metrics (<c>conversion</c>: per-user 0/1 from the conversion count; <c>revenue</c>: per-user value from the
/// value sums) and both harmful directions, with a one-sided mSPRT (<see cref="OneSidedMsprt"/>). Keeping all four
/// tests is cheap and means a guardrail added to a running definition is judged on every look since the start, without
/// the state depending on the definition. A guardrail is breached when its direction's always-valid p-value is below α,
/// the latest estimate is on the harmful side and both arms have the minimum sample. Owned by the experiment entity's thread.
/// </summary>
public sealed class GuardrailMonitor
{
    /// <summary>Guardrail metrics the per-arm sums support (also the validator's allowed list).</summary>
    public static IReadOnlyList<string> Metrics => ExperimentNames.GuardrailMetrics;

    private readonly SortedDictionary<(string Variant, string Metric), GuardrailTrack> tracks = new(Comparer<(string, string)>.Create((a, b) =>
    {
        var c = string.CompareOrdinal(a.Item1, b.Item1);
        return c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2);
    }));
    private readonly double conversionMixingVariance, revenueMixingVariance;

    /// <summary>A monitor with the τ² values of <paramref name="o"/> (fixed for its lifetime).</summary>
    public GuardrailMonitor(DetectorOptions o) : this(o.ConversionMixingVariance, o.RevenueMixingVariance) { }

    private GuardrailMonitor(double conversion, double revenue) => (conversionMixingVariance, revenueMixingVariance) = (conversion, revenue);

    /// <summary>All tracks in (variant, metric) ordinal order.</summary>
    public IReadOnlyCollection<GuardrailTrack> Tracks => tracks.Values;

    /// <summary>The track of a treatment arm and metric, if it has been looked at.</summary>
    public GuardrailTrack? Track(string variantId, string metric) => tracks.GetValueOrDefault((variantId, metric));

    /// <summary>Per-user mean and variance of a guardrail metric from an arm's sums (y² = y for 0/1 conversion).</summary>
    public static (double Mean, double Variance) Moments(ArmAggregate a, string metric) => metric == "conversion"
        ? ArmAggregate.Moments(a.Users, a.Conversions, a.Conversions)
        : ArmAggregate.Moments(a.Users, a.ValueSum, a.ValueSumSquares);

    /// <summary>One look per (treatment arm, metric) at the cumulative sums; looks without a valid estimate (n &lt; 2, V = 0) change nothing.</summary>
    public void Look(IEnumerable<ArmAggregate> arms, ArmAggregate control)
    {
        foreach (var arm in arms)
        {
            if (arm.VariantId == control.VariantId) continue;
            foreach (var metric in Metrics)
            {
                var (cm, cv) = Moments(control, metric);
                var (tm, tv) = Moments(arm, metric);
                var estimate = Msprt.DifferenceInMeans(control.Users, cm, cv, arm.Users, tm, tv);
                if (!estimate.Ok) continue;
                var tau2 = metric == "conversion" ? conversionMixingVariance : revenueMixingVariance;
                var t = tracks.GetValueOrDefault((arm.VariantId, metric))
                    ?? new(arm.VariantId, metric, OneSidedMsprtState.Start(HarmSide.Decrease, tau2), OneSidedMsprtState.Start(HarmSide.Increase, tau2), double.NaN, double.NaN);
                tracks[(arm.VariantId, metric)] = t with
                {
                    Decrease = t.Decrease.Update(estimate).State, Increase = t.Increase.Update(estimate).State,
                    Difference = estimate.Difference, Variance = estimate.Variance,
                };
            }
        }
    }

    /// <summary>A critical finding per (treatment arm, configured guardrail) in breach; subject <c>variant:metric</c>.</summary>
    public List<AlertFinding> Findings(IReadOnlyList<GuardrailDefinition> guardrails, Func<string, ArmAggregate> arm, string controlId, int minimumSample, double alpha)
    {
        var findings = new List<AlertFinding>();
        var control = arm(controlId);
        foreach (var g in guardrails)
        {
            foreach (var t in tracks.Values)
            {
                if (t.Metric != g.Metric) continue;
                var treatment = arm(t.VariantId);
                var test = t.For(g.Direction);
                var harmful = g.Direction == GuardrailDirection.MustNotDecrease ? t.Difference < 0 : t.Difference > 0;
                if (!(test.PValue < alpha) || !harmful || treatment.Users < minimumSample || control.Users < minimumSample) continue;
                var (cm, _) = Moments(control, g.Metric);
                var (tm, _) = Moments(treatment, g.Metric);
                var direction = ExperimentNames.Of(ExperimentNames.Directions, g.Direction);
                var message = string.Create(CultureInfo.InvariantCulture,
                    $"arm {t.VariantId}: guardrail {g.Metric} ({direction}) breached: {tm:G4} vs control {cm:G4} (difference {t.Difference:G4} ± {Math.Sqrt(t.Variance):G3}), always-valid p = {test.PValue:G3} < {alpha:G3}");
                findings.Add(new(AlertDetectors.GuardrailBreach, $"{t.VariantId}:{g.Metric}", AlertSeverity.Critical, message,
                [
                    new("difference", t.Difference), new("std_error", Math.Sqrt(t.Variance)), new("treatment_mean", tm), new("control_mean", cm),
                    new("p_value", test.PValue), new("alpha", alpha), new("looks", test.Looks),
                    new("treatment_users", treatment.Users), new("control_users", control.Users),
                ]));
            }
        }
        return findings;
    }

    /// <summary>Writes τ² values and tracks (part of the experiment state's format 2).</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(conversionMixingVariance); w.Write(revenueMixingVariance);
        w.Write(tracks.Count);
        foreach (var t in tracks.Values)
        {
            w.Write(t.VariantId); w.Write(t.Metric);
            t.Decrease.WriteTo(w); t.Increase.WriteTo(w);
            w.Write(t.Difference); w.Write(t.Variance);
        }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    public static GuardrailMonitor ReadFrom(BinaryReader r)
    {
        var m = new GuardrailMonitor(r.ReadDouble(), r.ReadDouble());
        for (int i = 0, n = r.ReadInt32(); i < n; i++)
        {
            var t = new GuardrailTrack(r.ReadString(), r.ReadString(), OneSidedMsprtState.ReadFrom(r), OneSidedMsprtState.ReadFrom(r), r.ReadDouble(), r.ReadDouble());
            m.tracks[(t.VariantId, t.Metric)] = t;
        }
        return m;
    }
}
