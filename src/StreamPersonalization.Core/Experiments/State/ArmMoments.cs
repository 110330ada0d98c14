using StreamPersonalization.Core.Experiments.Definitions;
namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// User-level moments of one arm derived from its sums: metric mean/variance, covariate mean/variance and the
/// metric–covariate covariance (all unbiased, NaN below n = 2). Derived once per snapshot so every test sees the same numbers.
/// </summary>
internal readonly record struct ArmMoments(long N, double MeanY, double VarY, double MeanX, double VarX, double CovXY)
{
    public static ArmMoments Of(ArmAggregate a, MetricKind metric)
    {
        var (sy, syy) = a.Metric(metric);
        var (my, vy) = ArmAggregate.Moments(a.Users, sy, syy);
        var (mx, vx) = ArmAggregate.Moments(a.Users, a.CovariateSum, a.CovariateSumSquares);
        var cov = a.Users >= 2 ? (a.CrossSum - a.CovariateSum * sy / a.Users) / (a.Users - 1) : double.NaN;
        return new(a.Users, my, vy, mx, vx, cov);
    }
}
