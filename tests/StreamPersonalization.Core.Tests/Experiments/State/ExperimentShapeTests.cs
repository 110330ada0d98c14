using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Core.Tests.Experiments.State;

public sealed class ExperimentShapeTests
{
    private static readonly ExperimentCatalog Catalog = ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

    [Fact]
    public void From_FixedDefinition_KeepsVariantOrderWeightsKindAndMetric()
    {
        var shape = ExperimentShape.From(Catalog["exp-checkout-1"]);
        Assert.Equal("exp-checkout-1", shape.ExperimentId);
        Assert.Equal(["control", "treatment"], shape.VariantIds);
        Assert.Equal([50.0, 50.0], shape.IntendedShares);
        Assert.Equal("control", shape.ControlVariantId);
        Assert.Equal(ExperimentKind.Fixed, shape.Kind);
        Assert.Equal(MetricKind.Binary, shape.PrimaryMetric);
    }

    [Fact]
    public void From_FactorialDefinition_HasOneArmPerCell()
    {
        var banner = Catalog["banner"];
        var shape = ExperimentShape.From(banner);
        Assert.Equal(ExperimentKind.Factorial, shape.Kind);
        Assert.Equal(banner.Factors.Aggregate(1, (n, f) => n * f.Levels.Length), shape.VariantIds.Count);
    }

    [Fact]
    public void From_FactorialDefinition_CarriesFactorsAndLevelsInOrder()
    {
        var shape = ExperimentShape.From(Catalog["banner"]);
        Assert.Equal(["color", "position"], shape.Factors.Select(f => f.Name));
        Assert.Equal(["red", "blue"], shape.Factors[0].Levels);
        Assert.Equal(["top", "side"], shape.Factors[1].Levels);
        Assert.Equal("color[red, blue]", shape.Factors[0].ToString());
        Assert.Empty(ExperimentShape.From(Catalog["exp-checkout-1"]).Factors);
    }
}
