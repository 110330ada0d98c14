using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>
/// Deterministic assignment for fixed and factorial experiments: the same (salt, user) always gets the same
/// variant, on every node and after every restart, without storing anything. Pure and allocation-free, because it
/// runs on every assignment request. Bandits are not split by hash (they draw from a posterior) and are rejected.
/// </summary>
public static class SplitAssigner
{
    /// <summary>
    /// The variant for <paramref name="userKey"/>. Fixed: the unit hash of <c>salt:user</c> is walked along the
    /// cumulative weights. Factorial: each factor picks a level uniformly from the hash of <c>salt:factor:user</c>,
    /// so factors are independent of each other, and the cell is looked up in
    /// <see cref="ExperimentDefinition.Variants"/> (row-major, first factor slowest).
    /// </summary>
    public static string Assign(ExperimentDefinition experiment, string userKey)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(userKey);
        return experiment.Kind switch
        {
            ExperimentKind.Fixed => AssignFixed(experiment, userKey),
            ExperimentKind.Factorial => AssignFactorial(experiment, userKey),
            _ => throw new ArgumentException($"Experiment '{experiment.Id}' is a {experiment.Kind} experiment; only fixed and factorial experiments are split by hash.", nameof(experiment)),
        };
    }

    /// <summary>Index of the level of one factor chosen for a user; exposed so analyses can recover factor levels.</summary>
    public static int FactorLevel(string salt, FactorDefinition factor, string userKey)
    {
        var u = AssignmentHash.ToUnit(AssignmentHash.Bucket(salt, factor.Name, userKey));
        return Math.Min((int)(u * factor.Levels.Length), factor.Levels.Length - 1);
    }

    private static string AssignFixed(ExperimentDefinition e, string userKey)
    {
        var variants = e.Variants.AsSpan();
        double total = 0;
        foreach (var v in variants)
            total += v.Weight;
        var target = AssignmentHash.ToUnit(AssignmentHash.Bucket(e.Salt, userKey)) * total;
        double cumulative = 0;
        foreach (var v in variants)
        {
            cumulative += v.Weight;
            if (target < cumulative)
                return v.Id;
        }
        // Only reachable through floating-point rounding of the cumulative sum at the very top of the range.
        return variants[^1].Id;
    }

    private static string AssignFactorial(ExperimentDefinition e, string userKey)
    {
        var index = 0;
        foreach (var factor in e.Factors)
            index = index * factor.Levels.Length + FactorLevel(e.Salt, factor, userKey);
        return e.Variants[index].Id;
    }
}
