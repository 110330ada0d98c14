namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// What one checkpoint of a user shard adds to one variant. Value sums are over per-user totals and are sent as
/// deltas: when a user's total moves from a to b, <see cref="ValueSum"/> += b − a and <see cref="ValueSumSquares"/>
/// += b² − a², so the entity can keep exact user-level moments without seeing individual users.
/// The cross and covariate sums (x = the user's pre-exposure covariate, y = the primary metric: the 0/1 conversion
/// for binary experiments, the value total for continuous ones) feed CUPED. <see cref="Histogram"/> moves users between
/// value bins the same way (+1 into bin 0 at exposure, −1/+1 when a total changes bin) and feeds the Mann–Whitney test.
/// </summary>
public sealed record ArmDelta(
    string VariantId,
    long Users,
    long Conversions,
    double ValueSum,
    double ValueSumSquares,
    double CovariateSum,
    double CovariateSumSquares,
    double CrossSum)
{
    /// <summary>Signed per-user value-bin moves; empty in version-1 deltas, which predate it.</summary>
    public ValueHistogram Histogram { get; init; } = ValueHistogram.Empty;

    /// <summary>Writes the fields in declaration order, then the histogram (part of <see cref="ExperimentDelta"/>'s format 2).</summary>
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
        Histogram.WriteTo(w);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote; format 1 has no histogram (read as empty, i.e. unknown).</summary>
    public static ArmDelta ReadFrom(BinaryReader r, byte formatVersion) =>
        new(r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble())
        {
            Histogram = formatVersion >= 2 ? ValueHistogram.ReadFrom(r) : ValueHistogram.Empty,
        };

    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"{VariantId}: users+{Users} conv+{Conversions} Σy+{ValueSum:G6} Σy²+{ValueSumSquares:G6} Σx+{CovariateSum:G6} Σx²+{CovariateSumSquares:G6} Σxy+{CrossSum:G6} bins{Histogram}");
}
