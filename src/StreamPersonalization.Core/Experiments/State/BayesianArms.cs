using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Posteriors per arm (Beta–Bernoulli for binary, normal for continuous) and the seeded Monte Carlo quantities
/// P(best), expected loss and Thompson allocation. All arms must have a posterior for the joint quantities to mean
/// anything, so one missing posterior makes them NaN with an experiment-level error code.
/// </summary>
internal sealed record BayesianArms(string PosteriorName, Estimate[] PosteriorMeans, double[] ProbabilityBest, double[] ExpectedLoss, double[]? Allocation)
{
    public static BayesianArms Compute(ArmAggregate[] arms, ArmMoments[] moments, ExperimentShape shape, ulong seed, SnapshotOptions o, List<string> errors)
    {
        var k = arms.Length;
        var means = new Estimate[k];
        var nan = Enumerable.Repeat(double.NaN, k).ToArray();
        BanditEstimate best, loss;
        BanditEstimate? allocation = null;
        var bandit = shape.Kind == ExperimentKind.Bandit;
        if (shape.PrimaryMetric == MetricKind.Binary)
        {
            var posteriors = new BetaPosterior?[k];
            for (var i = 0; i < k; i++)
            {
                var p = BetaPosterior.FromCounts(arms[i].Conversions, arms[i].Users - arms[i].Conversions);
                posteriors[i] = p.Value;
                if (!p.Ok) { means[i] = Estimate.Missing($"posterior.{p.Error}"); continue; }
                var ci = p.Value!.Interval(o.Confidence);
                means[i] = new(p.Value.Mean, ci.Lower, ci.Upper);
            }
            if (posteriors.Any(p => p is null)) return Fail("beta", means, nan, errors);
            var list = posteriors.Select(p => p!).ToArray();
            best = BanditMath.ProbabilityBest(list, o.MonteCarloDraws, seed);
            loss = BanditMath.ExpectedLoss(list, o.MonteCarloDraws, seed);
            if (bandit) allocation = BanditMath.ThompsonAllocation(list, o.MonteCarloDraws, seed, o.BanditMinimumShare);
        }
        else
        {
            var posteriors = new NormalPosterior?[k];
            for (var i = 0; i < k; i++)
            {
                var p = NormalPosterior.FromSample(moments[i].N, moments[i].MeanY, moments[i].VarY);
                posteriors[i] = p.Value;
                if (!p.Ok) { means[i] = Estimate.Missing($"posterior.{p.Error}"); continue; }
                var ci = p.Value!.Interval(o.Confidence);
                means[i] = new(p.Value.Mean, ci.Lower, ci.Upper);
            }
            if (posteriors.Any(p => p is null)) return Fail("normal", means, nan, errors);
            var list = posteriors.Select(p => p!).ToArray();
            best = BanditMath.ProbabilityBest(list, o.MonteCarloDraws, seed);
            loss = BanditMath.ExpectedLoss(list, o.MonteCarloDraws, seed);
            if (bandit) allocation = BanditMath.ThompsonAllocation(list, o.MonteCarloDraws, seed, o.BanditMinimumShare);
        }
        if (!best.Ok) errors.Add($"pbest.{best.Error}");
        if (!loss.Ok) errors.Add($"loss.{loss.Error}");
        if (allocation is { Ok: false }) errors.Add($"allocation.{allocation.Error}");
        return new(shape.PrimaryMetric == MetricKind.Binary ? "beta" : "normal", means,
            best.Ok ? best.Values.ToArray() : nan, loss.Ok ? loss.Values.ToArray() : nan,
            allocation is { Ok: true } ? allocation.Values.ToArray() : bandit ? nan : null);
    }

    private static BayesianArms Fail(string name, Estimate[] means, double[] nan, List<string> errors)
    {
        errors.Add("pbest.PosteriorMissing");
        return new(name, means, nan, nan, null);
    }
}
