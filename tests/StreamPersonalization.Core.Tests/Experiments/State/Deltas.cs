using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>Small builders for test deltas.</summary>
internal static class Deltas
{
    public const string Experiment = "exp-1";

    public static ExperimentShape Shape(MetricKind metric = MetricKind.Binary, ExperimentKind kind = ExperimentKind.Fixed, params string[] variants) =>
        new(Experiment, variants.Length == 0 ? ["control", "treatment"] : variants,
            Enumerable.Repeat(1.0, variants.Length == 0 ? 2 : variants.Length).ToArray(), kind, metric);

    public static ArmDelta Arm(string variant, long users, long conversions = 0, double valueSum = 0, double valueSumSquares = 0) =>
        new(variant, users, conversions, valueSum, valueSumSquares, 0, 0, 0);

    public static ExperimentDelta Range(int partition, long from, long to, params ArmDelta[] arms) =>
        new(Experiment, partition, from, to, arms);

    public static ExperimentState NewState(MetricKind metric = MetricKind.Binary) => ExperimentState.For(Shape(metric));
}
