using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Bayesian;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

public sealed class GuardrailBreachTests(ITestOutputHelper output)
{
    private const double Alpha = 0.05;
    private const int Looks = 50, UsersPerArmPerDelta = 200;   // 10,000 users per arm at the end

    private static readonly AlertPolicy Policy = new(
        [new("conversion", GuardrailDirection.MustNotDecrease), new("revenue", GuardrailDirection.MustNotIncrease)], MinimumSample: 100);

    /// <summary>
    /// Users convert with the arm's rate; a converted user's revenue is log-normal with mean 50 (σ_log = 0.5), others have 0.
    /// Each delta holds 200 users per arm; alerts are evaluated after every delta (continuous monitoring).
    /// </summary>
    private static DetectorScenario Run(ulong seed, double controlRate, double treatmentRate, double treatmentRevenueScale = 1, AlertPolicy? policy = null)
    {
        var rng = new Xoshiro256StarStar(seed);
        var scenario = new DetectorScenario();
        for (var i = 0; i < Looks; i++)
        {
            scenario.Apply(i % 4, null, Users(ref rng, "control", controlRate, 1), Users(ref rng, "treatment", treatmentRate, treatmentRevenueScale));
            scenario.Evaluate(policy ?? Policy, new DetectorOptions { GuardrailAlpha = Alpha });
        }
        return scenario;
    }

    private static ArmDelta Users(ref Xoshiro256StarStar rng, string variant, double rate, double revenueScale)
    {
        long conversions = 0;
        double sum = 0, squares = 0;
        for (var u = 0; u < UsersPerArmPerDelta; u++)
        {
            if (!rng.NextBernoulli(rate)) continue;
            conversions++;
            var value = revenueScale * 50 * Math.Exp(0.5 * rng.NextNormal() - 0.125);
            sum += value;
            squares += value * value;
        }
        return new(variant, UsersPerArmPerDelta, conversions, sum, squares, 0, 0, 0);
    }

    private static bool Breached(DetectorScenario s, string subject) =>
        s.Changes.Any(a => a.Detector == AlertDetectors.GuardrailBreach && a.Subject == subject && a.State == AlertState.Raised);

    [Fact]
    public void AaTest_ContinuousMonitoring_FalseBreachRateAtMostAlpha()
    {
        const int runs = 1000;
        int conversion = 0, revenue = 0;
        for (var run = 0; run < runs; run++)
        {
            var s = Run(7_000 + (ulong)run, 0.10, 0.10);
            if (Breached(s, "treatment:conversion")) conversion++;
            if (Breached(s, "treatment:revenue")) revenue++;
        }
        double conversionRate = (double)conversion / runs, revenueRate = (double)revenue / runs;
        output.WriteLine($"A/A, {runs} runs, {Looks} looks up to {Looks * UsersPerArmPerDelta}/arm, α = {Alpha}: false breach rate conversion (must_not_decrease) {conversionRate:P1}, revenue (must_not_increase) {revenueRate:P1}");
        Assert.True(conversionRate <= Alpha, $"conversion false breach rate {conversionRate:P1}");
        Assert.True(revenueRate <= Alpha, $"revenue false breach rate {revenueRate:P1}");
    }

    [Fact]
    public void ClearlyWorseTreatment_BreachRaisedWithEvidence()
    {
        const int runs = 50;
        var looks = new List<long>();
        var revenueBreaches = 0;
        for (var run = 0; run < runs; run++)
        {
            // Conversion 10 % → 8 % (4.9 standard errors at 10,000 users per arm) and revenue per user 5.0 → 7.0 (6.2 standard errors).
            var s = Run(90_000 + (ulong)run, 0.10, 0.08, 1.75,
                new([new("conversion", GuardrailDirection.MustNotDecrease), new("revenue", GuardrailDirection.MustNotIncrease)], 100));
            var alert = s.Changes.FirstOrDefault(a => a.Detector == AlertDetectors.GuardrailBreach && a.Subject == "treatment:conversion");
            Assert.NotNull(alert);
            Assert.Equal((AlertSeverity.Critical, AlertState.Raised), (alert.Severity, alert.State));
            var evidence = alert.Evidence.ToDictionary(e => e.Name, e => e.Value);
            Assert.True(evidence["difference"] < 0 && evidence["p_value"] < Alpha && evidence["alpha"] == Alpha, alert.ToString());
            Assert.Equal(evidence["treatment_mean"] - evidence["control_mean"], evidence["difference"], 12);
            looks.Add(alert.Version);
            if (Breached(s, "treatment:revenue")) revenueBreaches++;
        }
        looks.Sort();
        output.WriteLine($"conversion 10% → 8%: breach raised in {runs}/{runs} runs, median at look {looks[runs / 2]} of {Looks} ({looks[runs / 2] * UsersPerArmPerDelta} users/arm); revenue +40 %/user (must_not_increase) breached in {revenueBreaches}/{runs}");
        Assert.True(revenueBreaches >= runs * 0.9, $"revenue breaches {revenueBreaches}/{runs}");
    }

    [Fact]
    public void BetterTreatment_NoBreach_AndBelowMinimumSample_NoBreach()
    {
        // Improvement in the protected direction is never a breach.
        var better = Run(3, 0.10, 0.13);
        Assert.DoesNotContain(better.Changes, a => a.Detector == AlertDetectors.GuardrailBreach && a.Subject == "treatment:conversion");
        // A clear breach is held back until both arms have the definition's minimum sample.
        var early = Run(4, 0.10, 0.05, policy: Policy with { MinimumSample = 1_000_000 });
        Assert.DoesNotContain(early.Changes, a => a.Detector == AlertDetectors.GuardrailBreach);
        Assert.True(early.State.Guardrails.Track("treatment", "conversion")!.Decrease.PValue < Alpha);
    }
}
