using StreamPersonalization.Core.Statistics.Frequentist;
using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// CUPED with one θ and one covariate mean μ_X for all arms, as the method requires for an unbiased difference:
/// θ from the within-arm pooled var(X) and cov(X, Y) (so treatment effects do not leak into θ), μ_X the overall
/// covariate mean. Per arm Ŷ = ȳ − θ(x̄ − μ_X) with per-user variance var(Y) − 2θ cov(X, Y) + θ² var(X).
/// </summary>
internal sealed class CupedArms
{
    public const string NoCovariates = "cuped.NoCovariates";
    private readonly ArmMoments[] m;
    private readonly double[] adjustedMean, adjustedVariance;
    private readonly string? error;

    public double VarianceReduction { get; }

    private CupedArms(ArmMoments[] m, double[] mean, double[] variance, double reduction, string? error)
    {
        this.m = m; adjustedMean = mean; adjustedVariance = variance; VarianceReduction = reduction; this.error = error;
    }

    public static CupedArms Compute(ArmAggregate[] arms, ArmMoments[] m)
    {
        var none = new double[arms.Length];
        if (arms.All(a => a.CovariateSum == 0 && a.CovariateSumSquares == 0)) return new(m, none, none, double.NaN, NoCovariates);
        long n = 0; double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0; var dof = 0L;
        for (var i = 0; i < arms.Length; i++)
        {
            if (m[i].N < 2) continue;
            n += m[i].N; dof += m[i].N - 1;
            sx += arms[i].CovariateSum; sy += m[i].MeanY * m[i].N;
            sxx += m[i].VarX * (m[i].N - 1); syy += m[i].VarY * (m[i].N - 1); sxy += m[i].CovXY * (m[i].N - 1);
        }
        if (dof < 2) return new(m, none, none, double.NaN, "cuped.TooFewObservations");
        var pooled = Cuped.Adjust(sy / n, syy / dof, sx / n, sxx / dof, sxy / dof, sx / n);
        if (!pooled.Ok) return new(m, none, none, double.NaN, $"cuped.{pooled.Error}");
        var theta = pooled.Theta;
        var muX = sx / n;
        var mean = new double[arms.Length];
        var variance = new double[arms.Length];
        for (var i = 0; i < arms.Length; i++)
        {
            mean[i] = m[i].MeanY - theta * (m[i].MeanX - muX);
            variance[i] = Math.Max(0, m[i].VarY - 2 * theta * m[i].CovXY + theta * theta * m[i].VarX);
        }
        return new(m, mean, variance, pooled.VarianceReduction, null);
    }

    /// <summary>Adjusted treatment − control difference with a normal interval, and its Welch p-value.</summary>
    public (Estimate Difference, double PValue) Difference(int i, double z)
    {
        if (error is not null) return (Estimate.Missing(error), double.NaN);
        var r = WelchT.Test(m[i].N, adjustedMean[i], adjustedVariance[i], m[0].N, adjustedMean[0], adjustedVariance[0]);
        if (!r.IsValid) return (Estimate.Missing($"cuped.welch.{r.Error}"), double.NaN);
        var se = Math.Sqrt(adjustedVariance[i] / m[i].N + adjustedVariance[0] / m[0].N);
        return (new(r.Difference, r.Difference - z * se, r.Difference + z * se), r.PValue);
    }
}
