using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Tests.Experiments;

/// <summary>Definitions built in code, as the admin API would, for assignment and validation tests.</summary>
internal static class ExperimentFixtures
{
    public static ExperimentDefinition Fixed(string id = "checkout_button", params (string Id, double Weight)[] arms) => new()
    {
        Id = id,
        Kind = ExperimentKind.Fixed,
        Status = ExperimentStatus.Running,
        Variants = arms.Length == 0
            ? [new("control", 50), new("treatment", 50)]
            : [.. arms.Select(a => new VariantDefinition(a.Id, a.Weight))],
        PrimaryMetric = new MetricDefinition("conversion", MetricKind.Binary),
        FallbackVariant = arms.Length == 0 ? "control" : arms[0].Id,
    };

    public static ExperimentDefinition Factorial(string id = "banner")
    {
        FactorDefinition[] factors = [new("color", ["red", "blue"]), new("position", ["top", "side"])];
        return new ExperimentDefinition
        {
            Id = id,
            Kind = ExperimentKind.Factorial,
            Status = ExperimentStatus.Running,
            Factors = [.. factors],
            Variants = ExperimentDefinition.FactorialCells(factors),
            PrimaryMetric = new MetricDefinition("click_through", MetricKind.Binary),
            FallbackVariant = "color=red,position=top",
        };
    }

    public static ExperimentDefinition Bandit() => Fixed("recommendation_algo", ("popularity", 1), ("collaborative", 1), ("content_based", 1))
        with { Kind = ExperimentKind.Bandit };

    public static string User(int i) => $"user-{i:D6}";
}
