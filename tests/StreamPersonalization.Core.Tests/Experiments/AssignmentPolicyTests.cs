using System.Diagnostics;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Experiments;

public class AssignmentPolicyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ExperimentStatus.Draft)]
    [InlineData(ExperimentStatus.Paused)]
    [InlineData(ExperimentStatus.Stopped)]
    public void Decide_NotRunning_FallbackExperimentNotRunning(ExperimentStatus status)
    {
        var decision = AssignmentPolicy.Decide(ExperimentFixtures.Fixed() with { Status = status }, "u", true, true, true);

        Assert.Equal(new AssignmentDecision("checkout_button", "control", AssignmentReason.ExperimentNotRunning), decision);
        Assert.Equal("experiment_not_running", decision.ReasonName);
    }

    [Theory]
    [InlineData(false, true, true, AssignmentReason.NoConsent, "no_consent")]
    [InlineData(false, false, false, AssignmentReason.NoConsent, "no_consent")]
    [InlineData(true, false, true, AssignmentReason.IncompleteData, "incomplete_data")]
    [InlineData(true, false, false, AssignmentReason.IncompleteData, "incomplete_data")]
    [InlineData(true, true, false, AssignmentReason.NotTargeted, "not_targeted")]
    public void Decide_UserNotEligible_FallbackWithFirstFailingReason(bool consent, bool complete, bool targeted,
        AssignmentReason reason, string reasonName)
    {
        var experiment = ExperimentFixtures.Fixed() with { FallbackVariant = "treatment" };

        var decision = AssignmentPolicy.Decide(experiment, "u-1", consent, complete, targeted);

        Assert.Equal(new AssignmentDecision("checkout_button", "treatment", reason), decision);
        Assert.Equal(reasonName, decision.ReasonName);
    }

    [Fact]
    public void Decide_Eligible_AssignedBySplit()
    {
        var experiment = ExperimentFixtures.Factorial();

        var decision = AssignmentPolicy.Decide(experiment, "u-1", true, true, true);

        Assert.Equal(AssignmentReason.Assigned, decision.Reason);
        Assert.Equal("assigned", decision.ReasonName);
        Assert.Equal(SplitAssigner.Assign(experiment, "u-1"), decision.Variant);
    }

    [Theory]
    [InlineData("collaborative", "collaborative", AssignmentReason.Assigned)]
    [InlineData(null, "popularity", AssignmentReason.Fallback)]
    [InlineData("not_an_arm", "popularity", AssignmentReason.Fallback)]
    public void Decide_Bandit_UsesDrawOrFallback(string? draw, string variant, AssignmentReason reason)
    {
        var decision = AssignmentPolicy.Decide(ExperimentFixtures.Bandit(), "u-1", true, true, true, draw);

        Assert.Equal(new AssignmentDecision("recommendation_algo", variant, reason), decision);
    }

    [Fact]
    public void Decide_FixedSplit_ReportsThroughput()
    {
        const int Calls = 1_000_000;
        var experiment = ExperimentFixtures.Fixed();
        var users = Enumerable.Range(0, 4096).Select(ExperimentFixtures.User).ToArray();
        var assigned = 0;
        for (var i = 0; i < 10_000; i++)
            AssignmentPolicy.Decide(experiment, users[i & 4095], true, true, true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
            if (AssignmentPolicy.Decide(experiment, users[i & 4095], true, true, true).Reason == AssignmentReason.Assigned)
                assigned++;
        watch.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        output.WriteLine($"{Calls:N0} fixed-split decisions in {watch.Elapsed.TotalMilliseconds:F0} ms = {Calls / watch.Elapsed.TotalSeconds:N0} decisions/s " +
            $"({watch.Elapsed.TotalNanoseconds / Calls:F0} ns each); {allocated / (double)Calls:F1} bytes allocated per decision (the AssignmentDecision record)");
        Assert.Equal(Calls, assigned);
    }
}
