using StreamPersonalization.Core.Experiments.Definitions;
namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Running user-level sums of one arm. Kept as raw sums (not means) because deltas add, so applying ranges in any
/// order across partitions gives the same totals, and every statistic can be derived from them.
/// </summary>
public sealed record ArmAggregate(
    string VariantId,
    long Users,
    long Conversions,
    double ValueSum,
    double ValueSumSquares,
    double CovariateSum,
    double CovariateSumSquares,
    double CrossSum)
{
    /// <summary>An arm nobody has been exposed to yet.</summary>
    public static ArmAggregate Empty(string variantId) => new(variantId, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Adds a delta's sums.</summary>
    public ArmAggregate Add(ArmDelta d) => new(
        VariantId,
        Users + d.Users,
        Conversions + d.Conversions,
        ValueSum + d.ValueSum,
        ValueSumSquares + d.ValueSumSquares,
        CovariateSum + d.CovariateSum,
        CovariateSumSquares + d.CovariateSumSquares,
        CrossSum + d.CrossSum);

    /// <summary>Σy and Σy² of the primary metric: conversions for binary (y² = y), value sums for continuous.</summary>
    public (double Sum, double SumSquares) Metric(MetricKind kind) =>
        kind == MetricKind.Binary ? (Conversions, Conversions) : (ValueSum, ValueSumSquares);

    /// <summary>Sample mean and unbiased variance from Σy, Σy² (NaN when n is too small; variance clamped at 0 against rounding).</summary>
    public static (double Mean, double Variance) Moments(long n, double sum, double sumSquares)
    {
        if (n < 1) return (double.NaN, double.NaN);
        var mean = sum / n;
        if (n < 2) return (mean, double.NaN);
        return (mean, Math.Max(0, (sumSquares - sum * mean) / (n - 1)));
    }

    /// <summary>Writes the sums (part of <see cref="ExperimentState"/>'s binary format).</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(VariantId);
        w.Write(Users);
        w.Write(Conversions);
        w.Write(ValueSum);
        w.Write(ValueSumSquares);
        w.Write(CovariateSum);
        w.Write(CovariateSumSquares);
        w.Write(CrossSum);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    public static ArmAggregate ReadFrom(BinaryReader r) =>
        new(r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble());
}
