using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// The factorial section of a snapshot: maps each arm (variant id <c>factor=level,factor=level</c>) to its cell of
/// <see cref="ExperimentShape.Factors"/>, fits <see cref="FactorialAnova"/> with effect coding on the arms' n, Σy, Σy²
/// (conversions for binary metrics: the linear probability model) and names the terms after factors and levels.
/// </summary>
internal static class FactorialAnalysis
{
    /// <summary>The section for a factorial experiment, null for other kinds. <paramref name="arms"/> may be in any order.</summary>
    public static FactorialSnapshot? Compute(ExperimentShape shape, IReadOnlyList<ArmAggregate> arms)
    {
        if (shape.Kind != ExperimentKind.Factorial) return null;
        var model = shape.PrimaryMetric == MetricKind.Binary ? "linear-probability" : "linear";
        var factors = shape.Factors;
        var users = arms.Sum(a => a.Users);
        var errors = new List<string>();
        if (factors.Count == 0) return Failed(shape, model, users, ["factorial.NoFactors"]);

        var levels = factors.Select(f => f.Levels.Count).ToArray();
        var cells = new CellSums?[levels.Aggregate(1, (p, l) => p * l)];
        foreach (var arm in arms)
        {
            if (CellIndex(factors, arm.VariantId) is not { } index) { errors.Add($"factorial.UnknownCell:{arm.VariantId}"); continue; }
            var (sum, sumSquares) = arm.Metric(shape.PrimaryMetric);
            cells[index] = new CellSums(arm.Users, sum, sumSquares);
        }
        for (var i = 0; i < cells.Length; i++)
            if (cells[i] is not { N: > 0 }) errors.Add($"factorial.EmptyCell:{CellId(factors, i)}");
        if (errors.Count > 0) return Failed(shape, model, users, errors);

        var r = FactorialAnova.Fit(levels, cells.Select(c => c!.Value).ToArray(), FactorialCoding.Effect);
        if (!r.IsValid)
            return Failed(shape, model, users, [r.Error == Statistics.StatError.ZeroSampleSize ? "factorial.TooFewUsers" : $"factorial.{r.Error}"]);
        var coefficients = r.Coefficients.Select(c => new FactorialCoefficientSnapshot(
            c.Factors.Count == 0 ? "(Intercept)" : string.Join(":", c.Factors.Select((f, k) => $"{factors[f].Name}={factors[f].Levels[c.Levels[k]]}")),
            c.Estimate, c.StandardError, c.T, c.PValue)).ToArray();
        var effects = r.Effects.Select(e => new FactorialEffectSnapshot(
            string.Join(":", e.Factors.Select(f => factors[f].Name)), e.SumOfSquares, e.DegreesOfFreedom, e.F, e.PValue)).ToArray();
        return new(factors, "effect", model, users, r.ResidualDegreesOfFreedom, r.MeanSquaredError, coefficients, effects, []);
    }

    /// <summary>Row-major cell index (first factor slowest) of a variant id naming one level of every factor, or null.</summary>
    internal static int? CellIndex(IReadOnlyList<FactorShape> factors, string variantId)
    {
        var parts = variantId.Split(',');
        if (parts.Length != factors.Count) return null;
        var index = 0;
        for (var f = 0; f < factors.Count; f++)
        {
            var eq = parts[f].IndexOf('=');
            if (eq < 0 || parts[f][..eq] != factors[f].Name) return null;
            var level = IndexOf(factors[f].Levels, parts[f][(eq + 1)..]);
            if (level < 0) return null;
            index = index * factors[f].Levels.Count + level;
        }
        return index;
    }

    /// <summary>The variant id of a cell index, as <see cref="ExperimentDefinition.FactorialCells"/> spells it.</summary>
    internal static string CellId(IReadOnlyList<FactorShape> factors, int index)
    {
        var parts = new string[factors.Count];
        for (var f = factors.Count - 1; f >= 0; f--)
        {
            var count = factors[f].Levels.Count;
            parts[f] = $"{factors[f].Name}={factors[f].Levels[index % count]}";
            index /= count;
        }
        return string.Join(",", parts);
    }

    private static int IndexOf(IReadOnlyList<string> levels, string level)
    {
        for (var i = 0; i < levels.Count; i++)
            if (string.Equals(levels[i], level, StringComparison.Ordinal)) return i;
        return -1;
    }

    private static FactorialSnapshot Failed(ExperimentShape shape, string model, long users, IReadOnlyList<string> errors) =>
        new(shape.Factors, "effect", model, users, 0, double.NaN, [], [], errors);
}
