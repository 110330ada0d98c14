using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Tests.Statistics.Bayesian;

public sealed class BanditMathTests
{
    private const int Draws = 40_000;

    /// <summary>Evan Miller, "Formulas for Bayesian A/B testing": P(p_B &gt; p_A) for integer α_B.</summary>
    private static double ExactProbabilityBBeatsA(BetaPosterior a, BetaPosterior b)
    {
        double total = 0;
        for (var i = 0; i < (int)b.Alpha; i++)
            total += Math.Exp(SpecialFunctions.BetaLn(a.Alpha + i, a.Beta + b.Beta) - Math.Log(b.Beta + i)
                              - SpecialFunctions.BetaLn(1 + i, b.Beta) - SpecialFunctions.BetaLn(a.Alpha, a.Beta));
        return total;
    }

    [Theory]
    [InlineData(20, 180, 30, 170)]
    [InlineData(5, 95, 6, 94)]
    [InlineData(0, 0, 1, 0)]
    public void ProbabilityBest_TwoBetaArms_MatchesExactFormulaWithinThreeStandardErrors(int sA, int fA, int sB, int fB)
    {
        var a = BetaPosterior.FromCounts(sA, fA).Value!;
        var b = BetaPosterior.FromCounts(sB, fB).Value!;
        var exact = ExactProbabilityBBeatsA(a, b);
        var mc = BanditMath.ProbabilityBest([a, b], Draws, seed: 2024);
        var se = Math.Sqrt(exact * (1 - exact) / Draws);
        Assert.InRange(mc.Values[1], exact - 3 * se, exact + 3 * se);
        Assert.Equal(1.0, mc.Values[0] + mc.Values[1], 12);
    }

    [Fact]
    public void ProbabilityBest_TwoNormalArms_MatchesPhi()
    {
        // P(μ_B > μ_A) = Φ((m_B − m_A) / √(v_A + v_B)) for independent normal posteriors.
        var a = new NormalPosterior(10.0, 0.04);
        var b = new NormalPosterior(10.3, 0.05);
        var exact = Normal.CDF(0, 1, 0.3 / Math.Sqrt(0.09));
        var mc = BanditMath.ProbabilityBest([a, b], Draws, seed: 99);
        var se = Math.Sqrt(exact * (1 - exact) / Draws);
        Assert.InRange(mc.Values[1], exact - 3 * se, exact + 3 * se);
    }

    [Fact]
    public void ExpectedLoss_TwoNormalArms_MatchesClosedForm()
    {
        // D = μ_B − μ_A ~ N(d, σ²): loss_A = E[max(D, 0)] = σφ(d/σ) + dΦ(d/σ); loss_B = E[max(−D, 0)] = σφ(d/σ) − dΦ(−d/σ).
        var a = new NormalPosterior(10.0, 0.04);
        var b = new NormalPosterior(10.1, 0.05);
        double d = 0.1, s = Math.Sqrt(0.09);
        var lossA = s * Normal.PDF(0, 1, d / s) + d * Normal.CDF(0, 1, d / s);
        var lossB = s * Normal.PDF(0, 1, d / s) - d * Normal.CDF(0, 1, -d / s);
        var mc = BanditMath.ExpectedLoss([a, b], Draws, seed: 5);
        var se = Math.Sqrt((s * s + d * d) / Draws);   // conservative: Var(max(D,0)) ≤ E[D²]
        Assert.InRange(mc.Values[0], lossA - 3 * se, lossA + 3 * se);
        Assert.InRange(mc.Values[1], lossB - 3 * se, lossB + 3 * se);
    }

    [Fact]
    public void ExpectedLoss_BetaArms_BetterArmLosesLess()
    {
        var mc = BanditMath.ExpectedLoss([BetaPosterior.FromCounts(50, 950).Value!, BetaPosterior.FromCounts(70, 930).Value!], Draws, 3);
        Assert.True(mc.Values[1] < mc.Values[0]);
        Assert.All(mc.Values, v => Assert.True(v >= 0));
    }

    [Fact]
    public void ProbabilityBest_SameSeed_IdenticalResultAndSeedReturned()
    {
        BetaPosterior[] arms = [new(3, 40), new(5, 38), new(4, 39)];
        var first = BanditMath.ProbabilityBest(arms, 5_000, 0xFEEDUL);
        var second = BanditMath.ProbabilityBest(arms, 5_000, 0xFEEDUL);
        var other = BanditMath.ProbabilityBest(arms, 5_000, 0xBEEFUL);
        Assert.Equal(first.Values, second.Values);
        Assert.NotEqual(first.Values, other.Values);
        Assert.Equal(0xFEEDUL, first.Seed);
        Assert.Equal(5_000, first.Draws);
    }

    [Fact]
    public void ThompsonAllocation_MinimumShare_FloorsEveryArmAndSumsToOne()
    {
        BetaPosterior[] arms = [new(10, 990), new(60, 940), new(11, 989)];
        var alloc = BanditMath.ThompsonAllocation(arms, 10_000, 1, minimumShare: 0.05);
        Assert.True(alloc.Ok);
        Assert.All(alloc.Values, v => Assert.True(v >= 0.05));
        Assert.Equal(1.0, alloc.Values.Sum(), 12);
        Assert.True(alloc.Values[1] > 0.85);
    }

    [Fact]
    public void ThompsonAllocation_NoFloor_EqualsProbabilityBest()
    {
        NormalPosterior[] arms = [new(1, 0.1), new(1.2, 0.1)];
        Assert.Equal(BanditMath.ProbabilityBest(arms, 2_000, 8).Values, BanditMath.ThompsonAllocation(arms, 2_000, 8).Values);
    }

    [Fact]
    public void DegenerateInput_ReportsErrors()
    {
        Assert.Equal(PosteriorError.NoArms, BanditMath.ProbabilityBest(Array.Empty<BetaPosterior>(), 10, 1).Error);
        Assert.Equal(PosteriorError.InvalidDraws, BanditMath.ProbabilityBest([BetaPosterior.Prior], 0, 1).Error);
        Assert.Equal(PosteriorError.NonFinite, BanditMath.ExpectedLoss([new BetaPosterior(0, 1)], 10, 1).Error);
        Assert.Equal(PosteriorError.NegativeVariance, BanditMath.ProbabilityBest([new NormalPosterior(0, -1)], 10, 1).Error);
        Assert.Equal(PosteriorError.InvalidMinimumShare, BanditMath.ThompsonAllocation([BetaPosterior.Prior, BetaPosterior.Prior], 10, 1, 0.6).Error);
    }
}
