using System.Globalization;

namespace StreamPersonalization.Core.Privacy.Accounting;

/// <summary>An (ε, δ) amount: a per-period allowance, an amount spent, or a charge.</summary>
public readonly record struct PrivacyBudget(double Epsilon, double Delta)
{
    public static PrivacyBudget Zero => default;

    public bool IsValid => double.IsFinite(Epsilon) && Epsilon >= 0 && double.IsFinite(Delta) && Delta is >= 0 and < 1;

    public static PrivacyBudget operator +(PrivacyBudget a, PrivacyBudget b) => new(a.Epsilon + b.Epsilon, a.Delta + b.Delta);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"(ε={Epsilon:G6}, δ={Delta:G3})");
}

/// <summary>Why the accountant refused a charge.</summary>
public enum RefusalReason
{
    None = 0,

    /// <summary>Some cohort's ε spent in the period plus the charge would exceed the per-period ε budget.</summary>
    EpsilonBudgetExceeded,

    /// <summary>Some cohort's δ spent in the period plus the charge would exceed the per-period δ budget.</summary>
    DeltaBudgetExceeded,

    /// <summary>The charge is not a valid (ε &gt; 0, 0 ≤ δ &lt; 1) amount, or the period or a cohort name is empty.</summary>
    InvalidCharge,

    /// <summary>No cohorts were named.</summary>
    NoCohorts,
}

/// <summary>
/// Outcome of <see cref="PrivacyAccountant.TryCharge"/>: approved (the charge is recorded for every cohort) or
/// refused with a reason and a readable detail naming the first cohort that would overspend (nothing recorded).
/// </summary>
public sealed record ChargeResult(bool Approved, RefusalReason Refusal, string? Detail, string Period, int Cohorts, PrivacyBudget Charge)
{
    public override string ToString() =>
        Approved ? $"Approved({Period}, {Cohorts} cohorts, {Charge})" : $"Refused({Refusal}: {Detail})";
}
