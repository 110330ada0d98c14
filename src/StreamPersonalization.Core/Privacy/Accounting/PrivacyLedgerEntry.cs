using System.Globalization;

namespace StreamPersonalization.Core.Privacy.Accounting;

/// <summary>
/// One durable charge: what the release of <see cref="Period"/> spent on <see cref="Cohort"/>, counted against the budget of
/// <see cref="BudgetPeriod"/> (the accountant's period key). A ledger of these is the accountant's state in a store;
/// <see cref="PrivacyAccountant.FromLedger"/> rebuilds the accountant from it, so a restart cannot spend again.
/// </summary>
public sealed record PrivacyLedgerEntry(string BudgetPeriod, string Period, string Cohort, PrivacyBudget Charge)
{
    /// <summary>The entries an approved charge stands for: one per cohort it covered.</summary>
    public static IReadOnlyList<PrivacyLedgerEntry> For(ChargeResult approved, string period, IEnumerable<string> cohorts)
    {
        if (!approved.Approved) throw new ArgumentException("a refused charge spends nothing", nameof(approved));
        return cohorts.Select(c => new PrivacyLedgerEntry(approved.Period, period, c, approved.Charge)).ToList();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Ledger({BudgetPeriod} ← {Period} {Cohort} {Charge})");
}
