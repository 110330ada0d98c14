using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>
/// The single place that decides between assigning a user and serving the fallback variant, so every entry point
/// (HTTP, batch, tests) gives the same answer and the same reason. Consent, data completeness and targeting are
/// computed by the caller and passed in as flags, which keeps this function pure.
/// </summary>
public static class AssignmentPolicy
{
    /// <summary>
    /// Checks, in order: experiment running, consent, data completeness, targeting; the first failure returns the
    /// fallback with that reason (consent comes before data so a user without consent is never reported as merely
    /// incomplete). Otherwise fixed and factorial experiments are split by <see cref="SplitAssigner"/>; bandits use
    /// <paramref name="banditVariant"/> (the caller's Thompson draw), falling back with
    /// <see cref="AssignmentReason.Fallback"/> when there is none or it is not an arm.
    /// </summary>
    public static AssignmentDecision Decide(ExperimentDefinition experiment, string userKey, bool hasConsent,
        bool dataComplete, bool targeted, string? banditVariant = null)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(userKey);
        if (experiment.Status != ExperimentStatus.Running)
            return Fallback(experiment, AssignmentReason.ExperimentNotRunning);
        if (!hasConsent)
            return Fallback(experiment, AssignmentReason.NoConsent);
        if (!dataComplete)
            return Fallback(experiment, AssignmentReason.IncompleteData);
        if (!targeted)
            return Fallback(experiment, AssignmentReason.NotTargeted);
        if (experiment.Kind == ExperimentKind.Bandit)
        {
            return banditVariant is not null && experiment.HasVariant(banditVariant)
                ? new AssignmentDecision(experiment.Id, banditVariant, AssignmentReason.Assigned)
                : Fallback(experiment, AssignmentReason.Fallback);
        }
        return new AssignmentDecision(experiment.Id, SplitAssigner.Assign(experiment, userKey), AssignmentReason.Assigned);
    }

    private static AssignmentDecision Fallback(ExperimentDefinition e, AssignmentReason reason) =>
        new(e.Id, e.FallbackVariant, reason);
}
