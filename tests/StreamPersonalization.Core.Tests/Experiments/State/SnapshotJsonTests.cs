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
    public void ToJson_EmptyExperiment_WritesNullsNotNaN()
    {
        var shape = Deltas.Shape();
        var json = SnapshotJson.ToJson(SnapshotCalculator.Compute(ExperimentState.For(shape), shape, seed: 1));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("arms")[0].GetProperty("mean").ValueKind);
        Assert.DoesNotContain("NaN", json);
    }
}
