using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>A user-level event: exposure to a variant (with the pre-exposure covariate), a conversion, or a value.</summary>
internal sealed record SimEvent(int User, string Kind, string Variant, double Amount);

/// <summary>
/// Test stand-in for a user shard: folds one partition's events per user and emits a delta per checkpoint
/// ([from, to) offsets), using the b − a / b² − a² rule for value totals. Users count once, from exposure on.
/// </summary>
internal sealed class SimulatedShard(int partition, MetricKind metric)
{
    private sealed class User { public string? Variant; public bool Converted; public double Value; public double Covariate; }
    private readonly Dictionary<int, User> users = new();

    public IEnumerable<ExperimentDelta> Fold(IReadOnlyList<SimEvent> events, int checkpointEvery)
    {
        for (var from = 0; from < events.Count; from += checkpointEvery)
        {
            var to = Math.Min(events.Count, from + checkpointEvery);
            var arms = new Dictionary<string, ArmDelta>();
            for (var i = from; i < to; i++) Fold(events[i], arms);
            yield return new(Deltas.Experiment, partition, from, to, arms.Values.ToArray());
        }
    }

    private double Y(User u) => metric == MetricKind.Binary ? (u.Converted ? 1 : 0) : u.Value;

    private void Fold(SimEvent e, Dictionary<string, ArmDelta> arms)
    {
        if (!users.TryGetValue(e.User, out var u)) users[e.User] = u = new User();
        if (e.Kind == "expose")
        {
            if (u.Variant is not null) return;
            u.Variant = e.Variant;
            u.Covariate = e.Amount;
            var y = Y(u);
            Add(arms, u.Variant, new(u.Variant, 1, u.Converted ? 1 : 0, u.Value, u.Value * u.Value, u.Covariate, u.Covariate * u.Covariate, u.Covariate * y));
            return;
        }
        var (beforeY, beforeValue, beforeConverted) = (Y(u), u.Value, u.Converted);
        if (e.Kind == "convert") u.Converted = true; else u.Value += e.Amount;
        if (u.Variant is null) return;
        var afterY = Y(u);
        Add(arms, u.Variant, new(u.Variant, 0, u.Converted && !beforeConverted ? 1 : 0, u.Value - beforeValue,
            u.Value * u.Value - beforeValue * beforeValue, 0, 0, u.Covariate * (afterY - beforeY)));
    }

    private static void Add(Dictionary<string, ArmDelta> arms, string variant, ArmDelta d)
    {
        arms[variant] = arms.TryGetValue(variant, out var a)
            ? new(variant, a.Users + d.Users, a.Conversions + d.Conversions, a.ValueSum + d.ValueSum, a.ValueSumSquares + d.ValueSumSquares,
                a.CovariateSum + d.CovariateSum, a.CovariateSumSquares + d.CovariateSumSquares, a.CrossSum + d.CrossSum)
            : d;
    }
}
