using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Frequentist;
using StreamPersonalization.Core.Tests.Statistics.Frequentist;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>The factorial section of snapshots: terms named after factors and levels, errors for unusable cells.</summary>
public class SnapshotFactorialTests
{
    private static readonly ExperimentCatalog Catalog = ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

    /// <summary>The Moore design as a factorial experiment: fcategory (high, low, medium) × partner (high, low).</summary>
    internal static ExperimentShape MooreShape(MetricKind metric = MetricKind.Continuous)
    {
        FactorShape[] factors = [new("fcategory", FactorialAnovaTests.FLevels), new("partner", FactorialAnovaTests.PLevels)];
        var cells = factors[0].Levels.SelectMany(f => factors[1].Levels.Select(p => $"fcategory={f},partner={p}")).ToArray();
        return new ExperimentShape("moore", cells, cells.Select(_ => 1.0).ToArray(), ExperimentKind.Factorial, metric) { Factors = factors };
    }

    internal static ExperimentState MooreState(ExperimentShape shape)
    {
        var sums = FactorialAnovaTests.Cells([3, 2], FactorialAnovaTests.MooreRaw());
        var state = ExperimentState.For(shape);
        state.Apply(new ExperimentDelta(shape.ExperimentId, 0, 0, 1,
            shape.VariantIds.Select((v, i) => new ArmDelta(v, sums[i].N, 0, sums[i].Sum, sums[i].SumSquares, 0, 0, 0)).ToArray()));
        return state;
    }

    [Fact]
    public void Compute_MooreAsFactorialExperiment_MatchesCarAnovaTypeThree()
    {
        // Reference values as in FactorialAnovaTests (car's ?Anova example; mpmath digits).
        var shape = MooreShape();
        var f = SnapshotCalculator.Compute(MooreState(shape), shape, seed: 1).Factorial!;
        Assert.Empty(f.Errors);
        Assert.Equal("effect", f.Coding);
        Assert.Equal("linear", f.Model);
        Assert.Equal(45, f.Users);
        Assert.Equal(39, f.ResidualDegreesOfFreedom);
        Precision.Digits(817.763961038961 / 39, f.MeanSquaredError, 12);
        Assert.Equal(["fcategory", "partner", "fcategory:partner"], f.Effects.Select(e => e.Term));
        Precision.Digits(0.85888446202485158, f.Effects[0].F, 11);
        Precision.Digits(0.0016571126800988257, f.Effects[1].PValue, 9);
        Precision.Digits(0.02257244179167865, f.Effects[2].PValue, 9);
        Assert.Equal(["(Intercept)", "fcategory=high", "fcategory=low", "partner=high", "fcategory=high:partner=high", "fcategory=low:partner=high"],
            f.Coefficients.Select(c => c.Term));
        Precision.Digits(-2.8430735930735931, f.Coefficients[4].Estimate, 12);
        Precision.Digits(0.99867719824214278, f.Coefficients[4].StandardError, 12);
    }

    [Fact]
    public void Compute_BannerBinary_LinearProbabilityModelOnConversionRates()
    {
        // banner (config/experiments.yaml): color (red, blue) × position (top, side), binary click-through.
        var shape = ExperimentShape.From(Catalog["banner"]);
        (long N, long X)[] counts = [(400, 40), (380, 57), (410, 62), (395, 41)];
        var state = ExperimentState.For(shape);
        state.Apply(new ExperimentDelta("banner", 0, 0, 1, shape.VariantIds.Select((v, i) => Deltas.Arm(v, counts[i].N, counts[i].X)).ToArray()));
        var f = SnapshotCalculator.Compute(state, shape, seed: 1).Factorial!;
        Assert.Empty(f.Errors);
        Assert.Equal("linear-probability", f.Model);
        // Cells red·top, red·side, blue·top, blue·side: with two levels, effect coding gives half differences of rates.
        var p = counts.Select(c => (double)c.X / c.N).ToArray();
        Precision.Digits((p[0] + p[1] + p[2] + p[3]) / 4, f.Coefficients[0].Estimate, 13);
        Precision.Digits((p[0] + p[1] - p[2] - p[3]) / 4, f.Coefficients.Single(c => c.Term == "color=red").Estimate, 12);
        Precision.Digits((p[0] - p[1] + p[2] - p[3]) / 4, f.Coefficients.Single(c => c.Term == "position=top").Estimate, 12);
        Precision.Digits((p[0] - p[1] - p[2] + p[3]) / 4, f.Coefficients.Single(c => c.Term == "color=red:position=top").Estimate, 12);
        // The same model on the cell sums of 0/1 outcomes (Σy = Σy² = conversions).
        var direct = FactorialAnova.Fit([2, 2], counts.Select(c => new CellSums(c.N, c.X, c.X)).ToArray());
        Assert.Equal(direct.Effects.Select(e => e.F), f.Effects.Select(e => e.F));
        Assert.True(f.Effects[2].PValue < 0.01, $"the designed interaction is strong: {f.Effects[2]}");
    }

    [Fact]
    public void Compute_EmptyCell_ReportsCellByName()
    {
        var shape = MooreShape();
        var state = ExperimentState.For(shape);
        state.Apply(new ExperimentDelta("moore", 0, 0, 1, shape.VariantIds.Where(v => v != "fcategory=low,partner=high")
            .Select(v => Deltas.Arm(v, 5, 0, 10, 30)).ToArray()));
        var f = SnapshotCalculator.Compute(state, shape, seed: 1).Factorial!;
        Assert.Equal(["factorial.EmptyCell:fcategory=low,partner=high"], f.Errors);
        Assert.Empty(f.Effects);
        Assert.True(double.IsNaN(f.MeanSquaredError));
        Assert.Equal(25, f.Users);
    }

    [Fact]
    public void Compute_OneUserPerCell_ReportsTooFewUsers()
    {
        var shape = MooreShape();
        var state = ExperimentState.For(shape);
        state.Apply(new ExperimentDelta("moore", 0, 0, 1, shape.VariantIds.Select((v, i) => Deltas.Arm(v, 1, 0, i, i * i)).ToArray()));
        Assert.Equal(["factorial.TooFewUsers"], SnapshotCalculator.Compute(state, shape, seed: 1).Factorial!.Errors);
    }

    [Fact]
    public void Compute_FactorialWithoutFactors_ReportsNoFactors()
    {
        var shape = MooreShape() with { Factors = [] };
        Assert.Equal(["factorial.NoFactors"], SnapshotCalculator.Compute(MooreState(shape), shape, seed: 1).Factorial!.Errors);
    }

    [Fact]
    public void Compute_FixedExperiment_HasNoFactorialSection() =>
        Assert.Null(SnapshotCalculator.Compute(Deltas.NewState(), Deltas.Shape(), seed: 1).Factorial);

    [Fact]
    public void CellIndex_BannerVariants_AreRowMajorPositions()
    {
        var shape = ExperimentShape.From(Catalog["banner"]);
        for (var i = 0; i < shape.VariantIds.Count; i++)
        {
            Assert.Equal(i, FactorialAnalysis.CellIndex(shape.Factors, shape.VariantIds[i]));
            Assert.Equal(shape.VariantIds[i], FactorialAnalysis.CellId(shape.Factors, i));
        }
        Assert.Null(FactorialAnalysis.CellIndex(shape.Factors, "color=green,position=top"));
        Assert.Null(FactorialAnalysis.CellIndex(shape.Factors, "position=top,color=red"));
        Assert.Null(FactorialAnalysis.CellIndex(shape.Factors, "color=red"));
    }
}
