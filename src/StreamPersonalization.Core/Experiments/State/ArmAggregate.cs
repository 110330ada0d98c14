using StreamPersonalization.Core.Experiments.Definitions;
namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Running user-level sums of one arm. Kept as raw sums (not means) because deltas add, so applying ranges in any
/// order across partitions gives the same totals, and every statistic can be derived from them.
/// <see cref="Histogram"/> counts users per value bin; it is incomplete (total ≠ <see cref="Users"/>) for arms that
/// received version-1 deltas or were stored in version 1, and the rank test then reports that instead of a p-value.
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
    /// <summary>Users per value bin (see <see cref="ValueHistogram"/>).</summary>
    public ValueHistogram Histogram { get; init; } = ValueHistogram.Empty;

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
        CrossSum + d.CrossSum) { Histogram = Histogram.Add(d.Histogram) };

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

    /// <summary>
    /// Writes the sums then the histogram (part of <see cref="ExperimentState"/>'s format 2). The layout is
    /// <see cref="ArmDelta"/>'s — the same eight sums and histogram — so it is defined once, there.
    /// </summary>
    public void WriteTo(BinaryWriter w) =>
        new ArmDelta(VariantId, Users, Conversions, ValueSum, ValueSumSquares, CovariateSum, CovariateSumSquares, CrossSum) { Histogram = Histogram }.WriteTo(w);

    /// <summary>Reads what <see cref="WriteTo"/> wrote; format 1 has no histogram (read as empty, i.e. unknown).</summary>
    public static ArmAggregate ReadFrom(BinaryReader r, byte formatVersion) => FromDelta(ArmDelta.ReadFrom(r, formatVersion));

    private static ArmAggregate FromDelta(ArmDelta d) =>
        new(d.VariantId, d.Users, d.Conversions, d.ValueSum, d.ValueSumSquares, d.CovariateSum, d.CovariateSumSquares, d.CrossSum) { Histogram = d.Histogram };
}
