using StreamPersonalization.Core.Privacy.Accounting;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class PrivacyAccountantTests
{
    private static readonly string[] AB = ["a", "b"];

    [Fact]
    public void TryCharge_SequentialComposition_RefusesTheReleaseThatWouldExceedTheBudget()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        var charge = new PrivacyBudget(0.3, 0);
        for (var i = 0; i < 3; i++) Assert.True(acc.TryCharge("2026-11-22", AB, charge).Approved);
        Assert.Equal(0.9, acc.Spent("2026-11-22", "a").Epsilon, 12);
        var fourth = acc.TryCharge("2026-11-22", AB, charge);   // 0.9 + 0.3 = 1.2 > 1.0
        Assert.False(fourth.Approved);
        Assert.Equal(RefusalReason.EpsilonBudgetExceeded, fourth.Refusal);
        Assert.Contains("'a'", fourth.Detail);
        Assert.Equal(0.9, acc.Spent("2026-11-22", "a").Epsilon, 12);   // a refusal records nothing
        Assert.Equal(3, acc.Releases("2026-11-22", "b"));
        Assert.True(acc.TryCharge("2026-11-22", AB, new PrivacyBudget(0.1, 0)).Approved);   // what is left still fits
    }

    [Fact]
    public void TryCharge_ExactMultiplesOfTheBudget_FitDespiteRounding()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        for (var i = 0; i < 10; i++) Assert.True(acc.TryCharge("p", AB, new PrivacyBudget(0.1, 0)).Approved, $"charge {i + 1}");   // Σ = 0.9999999999999999
        Assert.False(acc.TryCharge("p", AB, new PrivacyBudget(1e-6, 0)).Approved);
    }

    [Fact]
    public void TryCharge_IsAllOrNothingAcrossCohorts()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        Assert.True(acc.TryCharge("p", ["a"], new PrivacyBudget(0.8, 0)).Approved);
        var r = acc.TryCharge("p", ["b", "a"], new PrivacyBudget(0.5, 0));
        Assert.False(r.Approved);
        Assert.Equal(0, acc.Spent("p", "b").Epsilon);   // b had room but the release as a whole was refused
    }

    [Fact]
    public void TryCharge_DeltaBudget_IsTrackedToo()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(10, 1e-5));
        Assert.True(acc.TryCharge("p", AB, new PrivacyBudget(1, 6e-6)).Approved);
        var r = acc.TryCharge("p", AB, new PrivacyBudget(1, 6e-6));
        Assert.Equal(RefusalReason.DeltaBudgetExceeded, r.Refusal);
    }

    [Fact]
    public void TryCharge_PeriodsAreSeparateBudgets()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        Assert.True(acc.TryCharge("2026-11-22", AB, new PrivacyBudget(1.0, 0)).Approved);
        Assert.False(acc.TryCharge("2026-11-22", AB, new PrivacyBudget(0.5, 0)).Approved);
        Assert.True(acc.TryCharge("2026-11-23", AB, new PrivacyBudget(0.5, 0)).Approved);
        Assert.Equal(2, acc.RemovePeriodsBefore("2026-11-23"));
        Assert.Equal(2, acc.EntryCount);
    }

    [Fact]
    public void TryCharge_InvalidCharges_AreRefusedWithReasons()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        Assert.Equal(RefusalReason.InvalidCharge, acc.TryCharge("p", AB, new PrivacyBudget(0, 0)).Refusal);
        Assert.Equal(RefusalReason.InvalidCharge, acc.TryCharge("p", AB, new PrivacyBudget(double.NaN, 0)).Refusal);
        Assert.Equal(RefusalReason.InvalidCharge, acc.TryCharge("", AB, new PrivacyBudget(0.1, 0)).Refusal);
        Assert.Equal(RefusalReason.NoCohorts, acc.TryCharge("p", [], new PrivacyBudget(0.1, 0)).Refusal);
    }

    [Fact]
    public void ToBytes_RoundTrip_RestoresSpendAndRefusesTheSame()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 1e-5));
        acc.TryCharge("2026-11-22", AB, new PrivacyBudget(0.7, 2e-6));
        acc.TryCharge("2026-11-23", ["ü-cohort"], new PrivacyBudget(0.2, 0));
        var bytes = acc.ToBytes();
        Assert.Equal(PrivacyAccountant.FormatVersion, bytes[0]);
        var restored = PrivacyAccountant.FromBytes(bytes, acc.Budget);
        Assert.Equal(bytes, restored.ToBytes());
        Assert.Equal(acc.Spent("2026-11-22", "b"), restored.Spent("2026-11-22", "b"));
        Assert.Equal(1, restored.Releases("2026-11-23", "ü-cohort"));
        Assert.False(restored.TryCharge("2026-11-22", AB, new PrivacyBudget(0.4, 0)).Approved);
        Assert.True(restored.TryCharge("2026-11-22", AB, new PrivacyBudget(0.3, 0)).Approved);
    }

    [Fact]
    public void FromBytes_UnknownVersionOrTruncated_IsInvalidData()
    {
        var acc = new PrivacyAccountant(new PrivacyBudget(1.0, 0));
        acc.TryCharge("p", AB, new PrivacyBudget(0.5, 0));
        var bytes = acc.ToBytes();
        var wrongVersion = bytes.ToArray();
        wrongVersion[0] = 2;
        Assert.Contains("format 2", Assert.Throws<InvalidDataException>(() => PrivacyAccountant.FromBytes(wrongVersion, acc.Budget)).Message);
        Assert.Throws<InvalidDataException>(() => PrivacyAccountant.FromBytes(bytes[..^3], acc.Budget));
        Assert.Throws<InvalidDataException>(() => PrivacyAccountant.FromBytes([.. bytes, 0], acc.Budget));
    }
}
