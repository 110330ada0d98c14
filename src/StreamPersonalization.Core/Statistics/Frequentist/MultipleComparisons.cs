namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Adjusted p-values in the order of the input.</summary>
public readonly record struct AdjustedPValues(IReadOnlyList<double> Values, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Adjustments for comparing several arms against control at once. Holm controls the family-wise error rate
/// and is uniformly more powerful than Bonferroni; Benjamini–Hochberg controls the false discovery rate for
/// independent or positively dependent tests. Both reproduce R's p.adjust, including its ordering of ties.
/// </summary>
public static class MultipleComparisons
{
    // With p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎).
    public static AdjustedPValues Holm(double[] p)
    {
        if (!Validate(p, out var error)) return new([], error);
        int m = p.Length;
        int[] order = Order(p);
        var adjusted = new double[m];
        double running = 0;
        for (int i = 0; i < m; i++)
        {
            running = Math.Max(running, (m - i) * p[order[i]]);
            adjusted[order[i]] = Math.Min(1, running);
        }
        return new(adjusted, StatError.None);
    }

    // With p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ᵢ₎ = min(1, min_{j ≥ i} m·p₍ⱼ₎/j).
    public static AdjustedPValues BenjaminiHochberg(double[] p)
    {
        if (!Validate(p, out var error)) return new([], error);
        int m = p.Length;
        int[] order = Order(p);
        var adjusted = new double[m];
        double running = double.PositiveInfinity;
        for (int i = m - 1; i >= 0; i--)
        {
            running = Math.Min(running, (double)m / (i + 1) * p[order[i]]);
            adjusted[order[i]] = Math.Min(1, running);
        }
        return new(adjusted, StatError.None);
    }

    // Stable ascending order of indices, like R's order(); ties keep input order.
    private static int[] Order(double[] p)
    {
        var order = Enumerable.Range(0, p.Length).ToArray();
        return order.OrderBy(i => p[i]).ToArray();
    }

    private static bool Validate(double[] p, out StatError error)
    {
        ArgumentNullException.ThrowIfNull(p);
        error = p.All(v => v >= 0 && v <= 1) ? StatError.None : StatError.InvalidInput;
        return error == StatError.None;
    }
}
