namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>Why a user got the variant they got; returned to clients so a fallback is never a mystery.</summary>
public enum AssignmentReason
{
    /// <summary>Assigned by the experiment's split or bandit.</summary>
    Assigned,
    /// <summary>The user does not match the experiment's targeting.</summary>
    NotTargeted,
    /// <summary>The user has not consented to experimentation.</summary>
    NoConsent,
    /// <summary>What targeting needs (segments, country, device) is not known yet for this user.</summary>
    IncompleteData,
    /// <summary>The experiment is draft, paused or stopped.</summary>
    ExperimentNotRunning,
    /// <summary>The experiment could not choose an arm (e.g. no bandit allocation yet).</summary>
    Fallback,
    /// <summary>Personalization is switched off in the user's market (<c>Privacy:DisabledMarkets</c>).</summary>
    PersonalizationOff,
}

/// <summary>The outcome of one assignment: the variant to serve and why.</summary>
public sealed record AssignmentDecision(string ExperimentId, string Variant, AssignmentReason Reason)
{
    /// <summary>The snake_case reason used on the wire (<c>assigned</c>, <c>not_targeted</c>, ...).</summary>
    public string ReasonName => Names[(int)Reason];

    private static readonly string[] Names =
        ["assigned", "not_targeted", "no_consent", "incomplete_data", "experiment_not_running", "fallback", "personalization_off"];
}
