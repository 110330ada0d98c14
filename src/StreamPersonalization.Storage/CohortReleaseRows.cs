using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Storage;

/// <summary>Argument checks shared by the cohort release stores, so a bad call fails before any write.</summary>
internal static class CohortReleaseRows
{
    /// <summary>A refused release spends nothing; an approved one's charges belong to its period and budget period.</summary>
    public static void CheckCharges(StoredCohortRelease release, IReadOnlyList<PrivacyLedgerEntry> charges)
    {
        if (!release.Released && charges.Count > 0)
            throw new ArgumentException($"refused release {release.Period} cannot spend budget", nameof(charges));
        foreach (var c in charges)
            if (c.Period != release.Period || c.BudgetPeriod != release.BudgetPeriod || !c.Charge.IsValid)
                throw new ArgumentException($"ledger entry {c} does not belong to release {release.Period} (budget {release.BudgetPeriod})", nameof(charges));
    }
}
