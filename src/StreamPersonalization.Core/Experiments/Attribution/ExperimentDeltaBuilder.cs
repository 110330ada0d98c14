using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Experiments.Attribution;

/// <summary>
/// Accumulates one shard's per-variant contributions between two checkpoints, to be published as
/// <see cref="ExperimentDelta"/>s. Ranges are contiguous per (experiment, source partition): a delta covers
/// [end of that experiment's previous delta, checkpoint offset), so ranges in which an experiment saw no
/// activity need no empty delta. Those ends are checkpointed with the shard (<see cref="RangeEnds"/>), and
/// the output order is deterministic (experiment id, then variant id, ordinal): a replay produces identical deltas.
/// Besides sums, each arm tracks per-user value-bin moves (<see cref="ValueHistogram"/>): an exposed user enters
/// the value-0 bin, and a value change moves the user from the bin of the old total to the bin of the new one.
/// </summary>
public sealed class ExperimentDeltaBuilder : IExperimentDeltaSink
{
    private sealed class Arm
    {
        public long Users, Conversions;
        public double ValueSum, ValueSumSquares, CovariateSum, CovariateSumSquares, CrossSum;
        public readonly Dictionary<int, long> Bins = [];
    }

    private readonly SortedDictionary<(string Experiment, string Variant), Arm> _arms =
        new(Comparer<(string, string)>.Create((a, b) =>
        {
            var c = string.CompareOrdinal(a.Item1, b.Item1);
            return c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2);
        }));

    private readonly SortedDictionary<string, long> _rangeEnds = new(StringComparer.Ordinal);

    public bool IsEmpty => _arms.Count == 0;

    /// <summary>Per experiment, the end offset of the last delta taken (the next delta's start).</summary>
    public IReadOnlyDictionary<string, long> RangeEnds => _rangeEnds;

    /// <summary>Restores the range ends from a checkpoint.</summary>
    public void RestoreRangeEnds(IEnumerable<KeyValuePair<string, long>> ends)
    {
        _rangeEnds.Clear();
        foreach (var (experiment, end) in ends) _rangeEnds[experiment] = end;
    }

    private Arm For(ExperimentExposure e)
    {
        if (!_arms.TryGetValue((e.ExperimentId, e.VariantId), out var arm)) _arms[(e.ExperimentId, e.VariantId)] = arm = new Arm();
        return arm;
    }

    /// <summary>A new exposed user: n += 1, Σx += x, Σx² += x², one more user in the value-0 bin.</summary>
    public void Exposed(ExperimentExposure e)
    {
        var arm = For(e);
        arm.Users++;
        arm.Bins[0] = arm.Bins.GetValueOrDefault(0) + 1;
        arm.CovariateSum += e.Covariate;
        arm.CovariateSumSquares += e.Covariate * e.Covariate;
    }

    /// <summary>The user converted for the first time: conversions += 1; for a binary metric y goes 0 → 1, so Σxy += x.</summary>
    public void Converted(ExperimentExposure e, bool binaryMetric)
    {
        var arm = For(e);
        arm.Conversions++;
        if (binaryMetric) arm.CrossSum += e.Covariate;
    }

    /// <summary>
    /// The user's value total moved from a to b: Σy += b − a, Σy² += b² − a²; for a continuous metric Σxy += x(b − a);
    /// the user moves from bin(a) to bin(b).
    /// </summary>
    public void ValueChanged(ExperimentExposure e, double from, double to, bool continuousMetric)
    {
        var arm = For(e);
        int binFrom = ValueHistogram.BinOf(from), binTo = ValueHistogram.BinOf(to);
        if (binFrom != binTo)
        {
            arm.Bins[binFrom] = arm.Bins.GetValueOrDefault(binFrom) - 1;
            arm.Bins[binTo] = arm.Bins.GetValueOrDefault(binTo) + 1;
        }
        arm.ValueSum += to - from;
        arm.ValueSumSquares += to * to - from * from;
        if (continuousMetric) arm.CrossSum += e.Covariate * (to - from);
    }

    /// <summary>The accumulated deltas up to source offset <paramref name="to"/>, one per experiment with activity; then starts empty.</summary>
    /// <param name="watermarkMs">The shard's event-time watermark at <paramref name="to"/> (null before its first event); experiment entities chart per-minute rates by it.</param>
    public List<ExperimentDelta> Take(int partition, long to, long? watermarkMs = null)
    {
        var result = _arms.GroupBy(kv => kv.Key.Experiment, StringComparer.Ordinal)
            .Select(g => new ExperimentDelta(g.Key, partition, _rangeEnds.GetValueOrDefault(g.Key, 0), to,
                g.Select(kv => new ArmDelta(kv.Key.Variant, kv.Value.Users, kv.Value.Conversions, kv.Value.ValueSum,
                    kv.Value.ValueSumSquares, kv.Value.CovariateSum, kv.Value.CovariateSumSquares, kv.Value.CrossSum)
                { Histogram = ValueHistogram.From(kv.Value.Bins) }).ToList(), watermarkMs))
            .ToList();
        foreach (var d in result) _rangeEnds[d.ExperimentId] = to;
        _arms.Clear();
        return result;
    }

    /// <summary>
    /// The user is erased: every sum it contributed is taken back (value to 0, then the conversion, then the exposure),
    /// so the experiment's totals are as if the user had never been exposed. Deltas may therefore be negative.
    /// </summary>
    public void Removed(ExperimentExposure e, bool binaryMetric)
    {
        if (e.Value != 0) ValueChanged(e, e.Value, 0, !binaryMetric);
        var arm = For(e);
        if (e.Converted)
        {
            arm.Conversions--;
            if (binaryMetric) arm.CrossSum -= e.Covariate;
        }
        arm.Users--;
        arm.Bins[0] = arm.Bins.GetValueOrDefault(0) - 1;
        arm.CovariateSum -= e.Covariate;
        arm.CovariateSumSquares -= e.Covariate * e.Covariate;
    }

    /// <summary>Forgets everything accumulated (a shard restarting from its checkpoint).</summary>
    public void Clear() => _arms.Clear();
}
