using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Detectors;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Pure function from an experiment's state to its published snapshot. Pure so that any node, or a replay, derives
/// byte-identical snapshots from the same (state, shape, seed, options), and so it is cheap to test. Degenerate
/// inputs become error codes in the snapshot, never exceptions: a young experiment must still publish.
/// </summary>
public static class SnapshotCalculator
{
    /// <summary>Computes the snapshot; arms follow <paramref name="shape"/>'s variant order (control first).</summary>
    public static ExperimentSnapshot Compute(ExperimentState state, ExperimentShape shape, ulong seed, SnapshotOptions? options = null)
    {
        var o = options ?? SnapshotOptions.Default;
        var errors = new List<string>();
        if (shape.VariantIds.Count < 2 || shape.IntendedShares.Count != shape.VariantIds.Count) errors.Add("shape.InvalidVariants");
        foreach (var a in state.Arms)
            if (!shape.VariantIds.Contains(a.VariantId)) errors.Add($"state.UnknownVariant:{a.VariantId}");

        var aggregates = shape.VariantIds.Select(state.Arm).ToArray();
        var moments = aggregates.Select(a => ArmMoments.Of(a, shape.PrimaryMetric)).ToArray();
        var bayes = BayesianArms.Compute(aggregates, moments, shape, seed, o, errors);
        var arms = new ArmSnapshot[aggregates.Length];
        for (var i = 0; i < arms.Length; i++) arms[i] = ArmOf(aggregates[i], moments[i], shape.PrimaryMetric, bayes, i, o);

        var tests = shape.VariantIds.Count >= 2 ? Comparisons.Compute(state, shape, aggregates, moments, o) : [];
        var srm = Srm(aggregates, shape, o);
        var alerts = new List<SnapshotAlert>();
        if (srm.Fired)
            alerts.Add(new("srm", "critical", FormattableString.Invariant(
                $"sample ratio mismatch: served [{string.Join(", ", aggregates.Select(a => a.Users))}] vs intended [{string.Join(", ", shape.IntendedShares)}], p = {srm.PValue:G3}")));
        return new(ExperimentSnapshot.CurrentSchema, shape.ExperimentId, state.Sequence, seed, shape.Kind, shape.PrimaryMetric,
            arms, tests, srm, alerts, errors)
        {
            ChiSquare = CountTests.Overall(aggregates, shape.PrimaryMetric),
            Factorial = FactorialAnalysis.Compute(shape, aggregates),
        };
    }

    private static ArmSnapshot ArmOf(ArmAggregate a, ArmMoments m, MetricKind metric, BayesianArms bayes, int i, SnapshotOptions o)
    {
        var errors = new List<string>();
        Estimate rate;
        if (metric == MetricKind.Binary)
        {
            var w = Intervals.Wilson(a.Conversions, a.Users, o.Confidence);
            rate = w.IsValid ? new(w.Estimate, w.Lower, w.Upper) : Estimate.Missing($"rate.{w.Error}");
            if (rate.Error is not null) errors.Add(rate.Error);
        }
        else rate = Estimate.Missing("rate.NotBinary");
        if (a.Users < 2) errors.Add("moments.TooFewUsers");
        else if (m.VarY == 0) errors.Add("moments.ZeroVariance");
        var posterior = bayes.PosteriorMeans[i];
        if (posterior.Error is not null) errors.Add(posterior.Error);
        return new(a.VariantId, a.Users, a.Conversions, rate, m.MeanY, m.VarY, bayes.PosteriorName, posterior,
            bayes.ProbabilityBest[i], bayes.ExpectedLoss[i], bayes.Allocation?[i], errors);
    }

    private static SrmSnapshot Srm(ArmAggregate[] arms, ExperimentShape shape, SnapshotOptions o)
    {
        // A bandit's intended split moves with the posterior, so a fixed-share test would alarm by design.
        if (shape.Kind == ExperimentKind.Bandit) return new(double.NaN, 0, double.NaN, false, "srm.NotApplicableToBandit");
        var r = SampleRatioMismatch.Check(arms.Select(a => a.Users).ToArray(), shape.IntendedShares.ToArray(), o.SrmAlpha);
        return new(r.Statistic, r.DegreesOfFreedom, r.PValue, r.Fired, r.Ok ? null : $"srm.{r.Error}");
    }
}
