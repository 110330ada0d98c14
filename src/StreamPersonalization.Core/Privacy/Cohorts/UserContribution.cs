namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// One user's input to one period's cohort metrics. <see cref="UserKey"/> (the pseudonym) only enforces one
/// contribution per user; it never leaves the aggregator.
/// </summary>
/// <param name="UserKey">Pseudonymised user id.</param>
/// <param name="Cohort">The user's cohort for the period (e.g. from the features at the period's end).</param>
/// <param name="SessionSeconds">The user's average session length in the period (clipped to [0, MaxSessionSeconds]).</param>
/// <param name="Converted">Whether the user converted in the period.</param>
/// <param name="Revenue">The user's revenue in the period (clipped to [0, MaxRevenue]).</param>
public readonly record struct UserContribution(string UserKey, CohortKey Cohort, double SessionSeconds, bool Converted, double Revenue)
{
    // No user key in logs.
    public override string ToString() => $"UserContribution({Cohort}, session={SessionSeconds}s, converted={Converted}, revenue={Revenue})";
}
