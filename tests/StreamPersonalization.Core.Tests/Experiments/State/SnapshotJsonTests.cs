using System.Text.Json;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

public class SnapshotJsonTests
{
    [Fact]
    public void ToJson_ParsesWithDocumentedFields()
    {
        var shape = Deltas.Shape();
        var state = Simulation.Run(shape, [0.1, 0.12], [0.5, 0.5], 4_000, seed: 23);
        using var doc = JsonDocument.Parse(SnapshotJson.ToUtf8(SnapshotCalculator.Compute(state, shape, seed: 77)));
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schema").GetInt32());
        Assert.Equal("exp-1", root.GetProperty("experimentId").GetString());
        Assert.Equal(state.Sequence, root.GetProperty("version").GetInt64());
        Assert.Equal("77", root.GetProperty("seed").GetString());
        Assert.Equal("binary", root.GetProperty("metric").GetString());
        var arms = root.GetProperty("arms");
        Assert.Equal(2, arms.GetArrayLength());
        var arm = arms[0];
        Assert.Equal("control", arm.GetProperty("variantId").GetString());
        foreach (var field in new[] { "users", "conversions", "conversionRate", "mean", "variance", "posterior", "probabilityBest", "expectedLoss", "allocation", "errors" })
            Assert.True(arm.TryGetProperty(field, out _), field);
        var test = root.GetProperty("tests")[0];
        foreach (var field in new[] { "variantId", "controlVariantId", "test", "statistic", "pValue", "difference", "holmPValue", "bhPValue", "cupedDifference", "msprt", "errors" })
            Assert.True(test.TryGetProperty(field, out _), field);
        Assert.Equal("per-applied-delta", test.GetProperty("msprt").GetProperty("cadence").GetString());
        Assert.Equal(JsonValueKind.False, root.GetProperty("srm").GetProperty("fired").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("alerts").ValueKind);
        Assert.Equal(JsonValueKind.Null, test.GetProperty("cupedDifference").GetProperty("value").ValueKind);
    }

    [Fact]
    public void ToJson_Binary_WritesChiSquareAndCountTestButNoRankOrFactorialSections()
    {
        var shape = Deltas.Shape();
        var state = Deltas.NewState();
        state.Apply(Deltas.Range(0, 0, 1, Deltas.Arm("control", 20, 1), Deltas.Arm("treatment", 18, 5)));
        var s = SnapshotCalculator.Compute(state, shape, seed: 1);
        using var doc = JsonDocument.Parse(SnapshotJson.ToUtf8(s));
        var root = doc.RootElement;
        var chi = root.GetProperty("chiSquare");
        Assert.Equal(s.ChiSquare!.Statistic, chi.GetProperty("statistic").GetDouble());
        Assert.Equal(1, chi.GetProperty("degreesOfFreedom").GetInt32());
        Assert.Equal(s.ChiSquare.PValue, chi.GetProperty("pValue").GetDouble());
        Assert.Equal(s.ChiSquare.MinimumExpectedCount, chi.GetProperty("minimumExpectedCount").GetDouble());
        Assert.Equal(JsonValueKind.Null, chi.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("factorial").ValueKind);
        var test = root.GetProperty("tests")[0];
        var count = test.GetProperty("countTest");
        Assert.Equal("fisher-exact", count.GetProperty("test").GetString());
        Assert.Equal(s.Tests[0].CountTest!.PValue, count.GetProperty("pValue").GetDouble());
        Assert.Equal(s.Tests[0].CountTest!.MinimumExpectedCount, count.GetProperty("minimumExpectedCount").GetDouble());
        Assert.Equal(JsonValueKind.Null, test.GetProperty("mannWhitney").ValueKind);
    }

    [Fact]
    public void ToJson_ContinuousFactorial_WritesFactorialAndMannWhitneySections()
    {
        var shape = SnapshotFactorialTests.MooreShape();
        var s = SnapshotCalculator.Compute(SnapshotFactorialTests.MooreState(shape), shape, seed: 1);
        using var doc = JsonDocument.Parse(SnapshotJson.ToUtf8(s));
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("chiSquare").ValueKind);
        var f = root.GetProperty("factorial");
        Assert.Equal("fcategory", f.GetProperty("factors")[0].GetProperty("name").GetString());
        Assert.Equal(["high", "low", "medium"], f.GetProperty("factors")[0].GetProperty("levels").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("effect", f.GetProperty("coding").GetString());
        Assert.Equal("linear", f.GetProperty("model").GetString());
        Assert.Equal(45, f.GetProperty("users").GetInt64());
        Assert.Equal(39, f.GetProperty("residualDegreesOfFreedom").GetInt64());
        Assert.Equal(s.Factorial!.MeanSquaredError, f.GetProperty("meanSquaredError").GetDouble());
        var coefficient = f.GetProperty("coefficients")[4];
        Assert.Equal("fcategory=high:partner=high", coefficient.GetProperty("term").GetString());
        foreach (var field in new[] { "estimate", "standardError", "t", "pValue" })
            Assert.Equal(JsonValueKind.Number, coefficient.GetProperty(field).ValueKind);
        var interaction = f.GetProperty("effects")[2];
        Assert.Equal("fcategory:partner", interaction.GetProperty("term").GetString());
        Assert.Equal(s.Factorial.Effects[2].F, interaction.GetProperty("f").GetDouble());
        Assert.Equal(2, interaction.GetProperty("degreesOfFreedom").GetInt32());
        Assert.Equal(s.Factorial.Effects[2].SumOfSquares, interaction.GetProperty("sumOfSquares").GetDouble());
        Assert.Equal(s.Factorial.Effects[2].PValue, interaction.GetProperty("pValue").GetDouble());
        Assert.Equal(0, f.GetProperty("errors").GetArrayLength());
        // The arms were built without histograms (as from version-1 data): the rank test says so.
        var mwu = root.GetProperty("tests")[0].GetProperty("mannWhitney");
        Assert.Equal("quarter-octave", mwu.GetProperty("binning").GetString());
        Assert.Equal("mwu.NoHistogram", mwu.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, mwu.GetProperty("pValue").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("tests")[0].GetProperty("countTest").ValueKind);
    }

    [Fact]
    public void ToJson_MannWhitneyWithHistograms_WritesNumbers()
    {
        var shape = Deltas.Shape(StreamPersonalization.Core.Experiments.Definitions.MetricKind.Continuous);
        var state = Deltas.NewState(StreamPersonalization.Core.Experiments.Definitions.MetricKind.Continuous);
        state.Apply(Deltas.Range(0, 0, 1, SnapshotCountAndRankTests.ArmOf("control", [0, 0, 1, 2, 4]), SnapshotCountAndRankTests.ArmOf("treatment", [0, 2, 4, 8, 16])));
        var s = SnapshotCalculator.Compute(state, shape, seed: 1);
        using var doc = JsonDocument.Parse(SnapshotJson.ToUtf8(s));
        var mwu = doc.RootElement.GetProperty("tests")[0].GetProperty("mannWhitney");
        Assert.Equal(s.Tests[0].MannWhitney!.U, mwu.GetProperty("u").GetDouble());
        Assert.Equal(s.Tests[0].MannWhitney!.Z, mwu.GetProperty("z").GetDouble());
        Assert.Equal(s.Tests[0].MannWhitney!.PValue, mwu.GetProperty("pValue").GetDouble());
        Assert.Equal(JsonValueKind.Null, mwu.GetProperty("error").ValueKind);
    }

    [Fact]
    public void ToJson_EmptyExperiment_WritesNullsNotNaN()
    {
        var shape = Deltas.Shape();
        var json = SnapshotJson.ToJson(SnapshotCalculator.Compute(ExperimentState.For(shape), shape, seed: 1));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("arms")[0].GetProperty("mean").ValueKind);
        Assert.DoesNotContain("NaN", json);
    }
}
