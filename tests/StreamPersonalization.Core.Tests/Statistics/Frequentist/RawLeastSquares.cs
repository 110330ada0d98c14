using MathNet.Numerics.LinearAlgebra;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

/// <summary>
/// Independent reference for <see cref="FactorialAnova"/>: builds R's design matrix of <c>y ~ A*B*…</c> from raw
/// observations (contr.sum or contr.treatment columns, interaction columns as products, the term's first factor varying
/// fastest), solves least squares by QR, and gets each Type III sum of squares as SSE(model without the term's
/// columns) − SSE(full model), which is what car::Anova(type = 3) computes with contr.sum.
/// </summary>
internal sealed class RawLeastSquares
{
    private readonly int[] levels;
    private readonly List<int[]> terms;
    private readonly List<(int Term, double[] Column)> columns = [];
    private readonly Vector<double> y;

    public RawLeastSquares(int[] levels, IReadOnlyList<(int[] Cell, double Y)> data, FactorialCoding coding)
    {
        this.levels = levels;
        y = Vector<double>.Build.DenseOfEnumerable(data.Select(d => d.Y));
        terms = [[]];
        for (var size = 1; size <= levels.Length; size++) terms.AddRange(Subsets(levels.Length, size));
        for (var t = 0; t < terms.Count; t++)
            foreach (var combo in Combos(terms[t], coding))
                columns.Add((t, data.Select(d => Column(d.Cell, terms[t], combo, coding)).ToArray()));
    }

    public int Observations => y.Count;

    /// <summary>Residual sum of squares of the full model and of the model without term <paramref name="dropTerm"/>.</summary>
    public double Sse(int dropTerm = -1)
    {
        var x = Design(dropTerm);
        var beta = x.QR().Solve(y);
        return (y - x * beta).DotProduct(y - x * beta);
    }

    /// <summary>Coefficients and standard errors σ̂·√diag((XᵀX)⁻¹) of the full model, in column order.</summary>
    public (double[] Estimates, double[] StandardErrors) Coefficients()
    {
        var x = Design(-1);
        var beta = x.QR().Solve(y);
        var mse = Sse() / (y.Count - x.ColumnCount);
        var inverse = x.TransposeThisAndMultiply(x).Inverse();
        return (beta.ToArray(), Enumerable.Range(0, x.ColumnCount).Select(i => Math.Sqrt(mse * inverse[i, i])).ToArray());
    }

    /// <summary>Type III SS and numerator df of every non-intercept term, in term order (size, then lexicographic).</summary>
    public IEnumerable<(int[] Term, double SumOfSquares, int Df)> TypeThree()
    {
        var full = Sse();
        for (var t = 1; t < terms.Count; t++)
            yield return (terms[t], Sse(t) - full, columns.Count(c => c.Term == t));
    }

    private Matrix<double> Design(int dropTerm)
    {
        var kept = columns.Where(c => c.Term != dropTerm).Select(c => c.Column).ToArray();
        return Matrix<double>.Build.Dense(y.Count, kept.Length, (i, j) => kept[j][i]);
    }

    // contr.sum: level j → 1 in column j, the last level → −1 in every column; contr.treatment: indicator of level j ≥ 1.
    private double Column(int[] cell, int[] term, int[] combo, FactorialCoding coding)
    {
        double v = 1;
        for (var k = 0; k < term.Length; k++)
        {
            int f = term[k], level = cell[f];
            v *= coding == FactorialCoding.Effect
                ? (level == combo[k] ? 1 : level == levels[f] - 1 ? -1 : 0)
                : (level == combo[k] ? 1 : 0);
        }
        return v;
    }

    private IEnumerable<int[]> Combos(int[] term, FactorialCoding coding)
    {
        var ranges = term.Select(f => coding == FactorialCoding.Effect ? Enumerable.Range(0, levels[f] - 1).ToArray() : Enumerable.Range(1, levels[f] - 1).ToArray()).ToArray();
        var total = ranges.Aggregate(1, (p, r) => p * r.Length);
        for (var i = 0; i < total; i++)
        {
            var combo = new int[term.Length];
            var rest = i;
            for (var k = 0; k < term.Length; k++) { combo[k] = ranges[k][rest % ranges[k].Length]; rest /= ranges[k].Length; }
            yield return combo;
        }
    }

    private static IEnumerable<int[]> Subsets(int n, int size)
    {
        if (size == 0) { yield return []; yield break; }
        for (var first = 0; first < n; first++)
            foreach (var rest in Subsets(n, size - 1).Where(r => r.Length == 0 || r[0] > first))
                yield return [first, .. rest];
    }
}
