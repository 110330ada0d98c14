using System.Globalization;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>n, Σy and Σy² of the observations in one cell of a factorial design.</summary>
public readonly record struct CellSums(long N, double Sum, double SumSquares);

/// <summary>How the coefficients of <see cref="FactorialAnova"/> are parametrised; the F-tests do not depend on it.</summary>
public enum FactorialCoding
{
    /// <summary>
    /// Sum-to-zero coding (R's <c>contr.sum</c>): the intercept is the unweighted mean of the cell means; a main-effect
    /// coefficient is its level's unweighted marginal mean minus that grand mean; interaction coefficients are the
    /// remaining deviations. The last level of each factor has no coefficient (it is minus the sum of the others).
    /// </summary>
    Effect,
    /// <summary>
    /// Dummy coding against the first level of every factor (R's <c>contr.treatment</c>): the intercept is the mean of
    /// the all-first-levels cell; the first level of each factor has no coefficient.
    /// </summary>
    Treatment,
}

/// <summary>
/// One coefficient of the full-interaction model: the term's factors (ascending indexes; empty for the intercept), the
/// level of each of them, the estimate, its standard error, t and two-sided p (residual degrees of freedom).
/// </summary>
public sealed record FactorialCoefficient(IReadOnlyList<int> Factors, IReadOnlyList<int> Levels, double Estimate, double StandardError, double T, double PValue)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Factors.Count == 0 ? "(Intercept)" : string.Join(":", Factors.Select((f, i) => $"F{f}={Levels[i]}")))} = {Estimate:G6} (SE {StandardError:G4}, t {T:G4}, p {PValue:G3})");
}

/// <summary>Type III test of one term: its sum of squares, numerator degrees of freedom, F and p.</summary>
public sealed record FactorialEffect(IReadOnlyList<int> Factors, double SumOfSquares, int DegreesOfFreedom, double F, double PValue)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{string.Join(":", Factors.Select(f => $"F{f}"))}: SS {SumOfSquares:G6}, df {DegreesOfFreedom}, F {F:G5}, p {PValue:G4}");
}

/// <summary>Coefficients, Type III F-tests and the residual line of a full-interaction factorial model.</summary>
public sealed record FactorialAnovaResult(
    IReadOnlyList<FactorialCoefficient> Coefficients,
    IReadOnlyList<FactorialEffect> Effects,
    double ResidualSumOfSquares,
    long ResidualDegreesOfFreedom,
    StatError Error)
{
    public bool IsValid => Error == StatError.None;

    /// <summary>The pooled within-cell variance σ̂² = RSS / (N − cells).</summary>
    public double MeanSquaredError => ResidualSumOfSquares / ResidualDegreesOfFreedom;

    internal static FactorialAnovaResult Fail(StatError error, double rss = double.NaN, long df = 0) => new([], [], rss, df, error);
}

/// <summary>
/// Linear model with every main effect and interaction of the factors (the cell-means model) fitted from per-cell n,
/// Σy and Σy², which is all an experiment entity keeps. Saturated, so the fitted values are the cell means and the
/// residual sum of squares is the pooled within-cell one. Every coefficient and hypothesis is a linear function of the
/// cell means μ̂ with Cov(μ̂) = σ²·diag(1/nᵢ), so unbalanced cells need no raw data. The F-tests are Type III: each term
/// is tested after all others (sum-to-zero hypotheses on the cell means, as R's <c>car::Anova(type = 3)</c> with
/// <c>contr.sum</c>). Cells are in row-major order of the factors (first factor varying slowest).
/// For 0/1 outcomes this is the linear probability model: estimates are exact differences of conversion rates, but its
/// constant-variance assumption is only approximate, so p-values are large-sample approximations there.
/// </summary>
public static class FactorialAnova
{
    // β_S,l = w·μ̂ with w = ⊗_f (f ∈ S ? a_f,l : u_f); SE = σ̂·√Σ wᵢ²/nᵢ; F_S = (Lμ̂)ᵀ(L·diag(1/n)·Lᵀ)⁻¹(Lμ̂)/(q·σ̂²) ~ F(q, N − C).
    /// <param name="levels">Number of levels of each factor (each ≥ 2).</param>
    /// <param name="cells">Sums of every cell, Π levels of them, row-major with the first factor varying slowest.</param>
    /// <param name="coding">Parametrisation of the reported coefficients.</param>
    public static FactorialAnovaResult Fit(IReadOnlyList<int> levels, IReadOnlyList<CellSums> cells, FactorialCoding coding = FactorialCoding.Effect)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(cells);
        if (levels.Count == 0 || levels.Any(l => l < 2) || levels.Aggregate(1L, (p, l) => Math.Min(p * l, int.MaxValue)) != cells.Count
            || cells.Any(c => c.N < 0 || !double.IsFinite(c.Sum) || !double.IsFinite(c.SumSquares)))
            return FactorialAnovaResult.Fail(StatError.InvalidInput);
        // An empty cell has no mean, and the full-interaction hypotheses involve every cell.
        if (cells.Any(c => c.N == 0))
            return FactorialAnovaResult.Fail(StatError.ZeroSampleSize);
        long df = cells.Sum(c => c.N) - cells.Count;
        if (df < 1)
            return FactorialAnovaResult.Fail(StatError.ZeroSampleSize);

        var means = cells.Select(c => c.Sum / c.N).ToArray();
        var inverseN = cells.Select(c => 1.0 / c.N).ToArray();
        double rss = cells.Zip(means, (c, m) => Math.Max(0, c.SumSquares - c.Sum * m)).Sum();
        double mse = rss / df;
        if (!(mse > 0))
            return FactorialAnovaResult.Fail(StatError.ZeroVariance, rss, df);

        var terms = Terms(levels.Count);
        var coefficients = new List<FactorialCoefficient>();
        foreach (var term in terms.Prepend(Array.Empty<int>()))
            foreach (var levelsOfTerm in CoefficientLevels(term, levels, coding))
            {
                var w = Weights(term, levelsOfTerm, levels, coding);
                double estimate = Dot(w, means), se = Math.Sqrt(mse * Covariance(w, w, inverseN)), t = estimate / se;
                coefficients.Add(new(term, levelsOfTerm, estimate, se, t, StudentTwoSided(t, df)));
            }

        var effects = new List<FactorialEffect>();
        foreach (var term in terms)
        {
            // Rows spanning the term's sum-to-zero contrasts; any basis of that space gives the same F.
            var rows = CoefficientLevels(term, levels, FactorialCoding.Effect)
                .Select(lv => Weights(term, lv, levels, FactorialCoding.Effect)).ToArray();
            int q = rows.Length;
            var h = Vector<double>.Build.Dense(q, i => Dot(rows[i], means));
            var v = Matrix<double>.Build.Dense(q, q, (i, j) => Covariance(rows[i], rows[j], inverseN));
            double ss = h.DotProduct(v.Cholesky().Solve(h));
            double f = ss / q / mse;
            effects.Add(new(term, ss, q, f, FUpperTail(f, q, df)));
        }
        return new(coefficients, effects, rss, df, StatError.None);
    }

    /// <summary>Non-empty subsets of the factors, by size and then lexicographically (R's order: A, B, A:B).</summary>
    private static List<int[]> Terms(int factors) =>
        Enumerable.Range(1, (1 << factors) - 1)
            .Select(mask => Enumerable.Range(0, factors).Where(f => (mask & (1 << f)) != 0).ToArray())
            .OrderBy(t => t.Length).ThenBy(t => string.Join(",", t.Select(f => f.ToString("D2", CultureInfo.InvariantCulture))), StringComparer.Ordinal)
            .ToList();

    /// <summary>Level tuples that carry a coefficient, the term's first factor varying fastest (R's column order).</summary>
    private static IEnumerable<int[]> CoefficientLevels(int[] term, IReadOnlyList<int> levels, FactorialCoding coding)
    {
        IEnumerable<int[]> tuples = [[]];
        foreach (var f in term.Reverse())
        {
            var own = coding == FactorialCoding.Effect ? Enumerable.Range(0, levels[f] - 1) : Enumerable.Range(1, levels[f] - 1);
            tuples = tuples.SelectMany(rest => own.Select(l => (int[])[l, .. rest])).ToList();
        }
        return tuples;
    }

    // w = ⊗_f (f ∈ term ? coding vector of f's level : average over f); w·μ̂ is the coefficient.
    private static double[] Weights(int[] term, int[] termLevels, IReadOnlyList<int> levels, FactorialCoding coding) =>
        Kronecker(levels.Select((l, f) => Array.IndexOf(term, f) is var k and >= 0 ? CodingVector(l, termLevels[k], coding) : Average(l, coding)));

    // Effect: eₗ − 1/L (sums to zero); treatment: eₗ − e₀.
    private static double[] CodingVector(int levelCount, int level, FactorialCoding coding)
    {
        var v = new double[levelCount];
        if (coding == FactorialCoding.Effect) { Array.Fill(v, -1.0 / levelCount); v[level] += 1; }
        else { v[0] = -1; v[level] = 1; }
        return v;
    }

    // Factors outside a term are averaged over (effect coding) or held at the reference level (treatment coding).
    private static double[] Average(int levelCount, FactorialCoding coding)
    {
        var v = new double[levelCount];
        if (coding == FactorialCoding.Effect) Array.Fill(v, 1.0 / levelCount); else v[0] = 1;
        return v;
    }

    // (a ⊗ b)[i·|b| + j] = a[i]·b[j]: the first factor varies slowest, as the cells do.
    private static double[] Kronecker(IEnumerable<double[]> vectors) =>
        vectors.Aggregate(new[] { 1.0 }, (acc, v) => acc.SelectMany(a => v.Select(b => a * b)).ToArray());

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    // Cov(a·μ̂, b·μ̂)/σ² = Σ aᵢbᵢ/nᵢ.
    private static double Covariance(double[] a, double[] b, double[] inverseN)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i] * inverseN[i];
        return s;
    }

    // Two-sided Student-t tail via the regularized incomplete beta: I_{ν/(ν+t²)}(ν/2, 1/2).
    private static double StudentTwoSided(double t, long df) => SpecialFunctions.BetaRegularized(df / 2.0, 0.5, df / (df + t * t));

    // P(F(d₁, d₂) > f) = I_{d₂/(d₂ + d₁f)}(d₂/2, d₁/2), no 1 − CDF cancellation for small p.
    private static double FUpperTail(double f, int d1, long d2) => SpecialFunctions.BetaRegularized(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));
}
