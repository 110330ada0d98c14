namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>
/// Bandit quantities by seeded Monte Carlo over independent arm posteriors:
/// P(best)_i = P(θ_i = max_j θ_j), expected loss_i = E[max_j θ_j − θ_i], Thompson allocation = P(best) with a floor.
/// Monte Carlo rather than quadrature because it handles any number of arms; the standard error of P(best) is
/// √(p(1 − p)/draws). Same arms, draws and seed ⇒ the same numbers.
/// </summary>
public static class BanditMath
{
    /// <summary>P(θ_i is the largest) for each Beta arm.</summary>
    public static BanditEstimate ProbabilityBest(IReadOnlyList<BetaPosterior> arms, int draws, ulong seed) =>
        Run(new BetaArms(arms), draws, seed, lossInstead: false);

    /// <summary>P(θ_i is the largest) for each normal arm.</summary>
    public static BanditEstimate ProbabilityBest(IReadOnlyList<NormalPosterior> arms, int draws, ulong seed) =>
        Run(new NormalArms(arms), draws, seed, lossInstead: false);

    /// <summary>E[max_j θ_j − θ_i] for each Beta arm: what choosing arm i is expected to cost.</summary>
    public static BanditEstimate ExpectedLoss(IReadOnlyList<BetaPosterior> arms, int draws, ulong seed) =>
        Run(new BetaArms(arms), draws, seed, lossInstead: true);

    /// <summary>E[max_j θ_j − θ_i] for each normal arm.</summary>
    public static BanditEstimate ExpectedLoss(IReadOnlyList<NormalPosterior> arms, int draws, ulong seed) =>
        Run(new NormalArms(arms), draws, seed, lossInstead: true);

    /// <summary>
    /// Thompson allocation shares for Beta arms: share_i = m + (1 − k·m) · P(best)_i, so every arm keeps at least
    /// the minimum exploration share m (0 ≤ m ≤ 1/k) and the shares sum to 1.
    /// </summary>
    public static BanditEstimate ThompsonAllocation(IReadOnlyList<BetaPosterior> arms, int draws, ulong seed, double minimumShare = 0) =>
        Floor(ProbabilityBest(arms, draws, seed), minimumShare);

    /// <summary>Thompson allocation shares for normal arms (see the Beta overload).</summary>
    public static BanditEstimate ThompsonAllocation(IReadOnlyList<NormalPosterior> arms, int draws, ulong seed, double minimumShare = 0) =>
        Floor(ProbabilityBest(arms, draws, seed), minimumShare);

    /// <summary>One Thompson sampling decision: draw θ_i from each arm and return argmax (first on ties); −1 for no arms.</summary>
    public static int ChooseArm(IReadOnlyList<BetaPosterior> arms, ref Xoshiro256StarStar rng)
    {
        var best = -1;
        var bestValue = double.NegativeInfinity;
        for (var i = 0; i < arms.Count; i++)
        {
            var v = arms[i].Sample(ref rng);
            if (v > bestValue) { bestValue = v; best = i; }
        }
        return best;
    }

    private static BanditEstimate Floor(BanditEstimate p, double minimumShare)
    {
        if (!p.Ok) return p;
        var k = p.Values.Count;
        if (!(minimumShare >= 0) || minimumShare * k > 1 + 1e-12) return BanditEstimate.Fail(p.Draws, p.Seed, PosteriorError.InvalidMinimumShare);
        var scale = 1 - k * minimumShare;
        var shares = new double[k];
        for (var i = 0; i < k; i++) shares[i] = minimumShare + scale * p.Values[i];
        return p with { Values = shares };
    }

    private static BanditEstimate Run<TArms>(TArms arms, int draws, ulong seed, bool lossInstead) where TArms : IArms
    {
        if (draws <= 0) return BanditEstimate.Fail(draws, seed, PosteriorError.InvalidDraws);
        var invalid = arms.Validate();
        if (invalid != PosteriorError.None) return BanditEstimate.Fail(draws, seed, invalid);

        var k = arms.Count;
        var sums = new double[k];
        Span<double> theta = k <= 128 ? stackalloc double[k] : new double[k];
        var rng = new Xoshiro256StarStar(seed);
        for (var d = 0; d < draws; d++)
        {
            var best = 0;
            for (var i = 0; i < k; i++)
            {
                theta[i] = arms.Sample(i, ref rng);
                if (theta[i] > theta[best]) best = i;
            }
            if (!lossInstead) { sums[best] += 1; continue; }
            var max = theta[best];
            for (var i = 0; i < k; i++) sums[i] += max - theta[i];
        }
        for (var i = 0; i < k; i++) sums[i] /= draws;
        return new BanditEstimate(sums, draws, seed, PosteriorError.None);
    }

    private interface IArms
    {
        int Count { get; }
        PosteriorError Validate();
        double Sample(int i, ref Xoshiro256StarStar rng);
    }

    private readonly struct BetaArms(IReadOnlyList<BetaPosterior>? arms) : IArms
    {
        public int Count => arms!.Count;

        public PosteriorError Validate()
        {
            if (arms is null || arms.Count == 0) return PosteriorError.NoArms;
            foreach (var a in arms)
            {
                if (a is null) return PosteriorError.NoArms;
                if (!double.IsFinite(a.Alpha) || !double.IsFinite(a.Beta) || a.Alpha <= 0 || a.Beta <= 0) return PosteriorError.NonFinite;
            }
            return PosteriorError.None;
        }

        public double Sample(int i, ref Xoshiro256StarStar rng) => arms![i].Sample(ref rng);
    }

    private readonly struct NormalArms(IReadOnlyList<NormalPosterior>? arms) : IArms
    {
        public int Count => arms!.Count;

        public PosteriorError Validate()
        {
            if (arms is null || arms.Count == 0) return PosteriorError.NoArms;
            foreach (var a in arms)
            {
                if (a is null) return PosteriorError.NoArms;
                if (!double.IsFinite(a.Mean) || !double.IsFinite(a.Variance)) return PosteriorError.NonFinite;
                if (a.Variance < 0) return PosteriorError.NegativeVariance;
            }
            return PosteriorError.None;
        }

        public double Sample(int i, ref Xoshiro256StarStar rng) => arms![i].Sample(ref rng);
    }
}
