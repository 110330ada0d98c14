using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Bayesian;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

public sealed class MetricAnomalyTests(ITestOutputHelper output)
{
    private static readonly AlertPolicy NoGuardrails = new([], 100);
    private const int Partitions = 4, ExposuresPerDelta = 500, WarmUp = 120;

    /// <summary>
    /// Per minute every partition sends one delta per arm with 500 exposures and Binomial(500, rate) conversions (normal
    /// approximation, rounded and clamped). Partition p's watermark trails by 20·p seconds, so partition 3 is always a minute
    /// behind and its deltas land in the open minute (the documented interleaving approximation). One evaluation per minute.
    /// </summary>
    private static DetectorScenario Run(ulong seed, int minutes, Func<int, double> controlRate, Func<int, double> treatmentRate)
    {
        var rng = new Xoshiro256StarStar(seed);
        var scenario = new DetectorScenario();
        for (var m = 0; m < minutes; m++)
        {
            for (var p = 0; p < Partitions; p++)
            {
                var watermark = DetectorScenario.Start + m * 60_000L + 50_000 - p * 20_000;
                scenario.Apply(p, watermark, Arm(ref rng, "control", controlRate(m)), Arm(ref rng, "treatment", treatmentRate(m)));
            }
            scenario.Evaluate(NoGuardrails);
        }
        return scenario;
    }

    private static ArmDelta Arm(ref Xoshiro256StarStar rng, string variant, double rate)
    {
        var conversions = Math.Clamp(Math.Round(ExposuresPerDelta * rate + Math.Sqrt(ExposuresPerDelta * rate * (1 - rate)) * rng.NextNormal()), 0, ExposuresPerDelta);
        return new(variant, ExposuresPerDelta, (long)conversions, 0, 0, 0, 0, 0);
    }

    private static IEnumerable<Alert> Raised(DetectorScenario s, string arm) =>
        s.Changes.Where(a => a.Detector == AlertDetectors.MetricAnomaly && a.Subject == arm && a.State == AlertState.Raised);

    [Fact]
    public void StationarySeries_RarelyAlarms()
    {
        const int runs = 200, minutes = WarmUp + 240;
        int runsWithAlarm = 0, armsWithAlarm = 0;
        for (var run = 0; run < runs; run++)
        {
            var s = Run(1_000 + (ulong)run, minutes, _ => 0.05, _ => 0.05);
            var c = Raised(s, "control").Any();
            var t = Raised(s, "treatment").Any();
            armsWithAlarm += (c ? 1 : 0) + (t ? 1 : 0);
            if (c || t) runsWithAlarm++;
        }
        double perArm = armsWithAlarm / (2.0 * runs), perRun = (double)runsWithAlarm / runs;
        output.WriteLine($"stationary 5% at 2,000 exposures/min/arm, 240 monitored minutes: alarm on an arm in {perArm:P1} of {2 * runs} arm-runs, on either arm in {perRun:P1} of {runs} runs");
        // Each arm carries an EWMA (measured ≤ 2 % alone over 240 min in ControlChartTests) and a CUSUM (≤ 2 %), OR-ed.
        Assert.True(perArm <= 0.05, $"per-arm false-alarm rate {perArm:P1}");
    }

    [Fact]
    public void StepChange_RaisesOnTheShiftedArmWithinMinutes()
    {
        const int runs = 50, step = WarmUp + 60, minutes = step + 30;
        var delays = new List<int>();
        for (var run = 0; run < runs; run++)
        {
            // 5 % → 6 % on 2,000 exposures a minute: about 2 binomial σ (σ = √(0.05·0.95/2000) ≈ 0.49 points).
            var s = Run(50_000 + (ulong)run, minutes, _ => 0.05, m => m < step ? 0.05 : 0.06);
            // The evaluation after minute m's deltas has version 4(m + 1); the delay counts minutes from the step's first minute.
            var first = Raised(s, "treatment").Select(a => a.Version).Where(v => v > step * Partitions).DefaultIfEmpty(long.MaxValue).Min();
            delays.Add(first == long.MaxValue ? int.MaxValue : (int)(first / Partitions - step));
            var alert = Raised(s, "treatment").LastOrDefault();
            if (alert is null) continue;
            Assert.Equal(["minute", "rate", "exposures", "baseline", "baseline_sd", "ewma_statistic", "ewma_limit", "cusum_statistic", "cusum_limit"],
                alert.Evidence.Select(e => e.Name));
            Assert.InRange(alert.Evidence[1].Value, 0.05, 0.08);
            Assert.InRange(alert.Evidence[3].Value, 0.045, 0.055);
        }
        var sorted = delays.Order().ToList();
        output.WriteLine($"2σ step on treatment: detected in {delays.Count(d => d != int.MaxValue)}/{runs} runs within 30 min; median delay {sorted[runs / 2]} min, max {sorted[^1]} min");
        Assert.All(delays, d => Assert.True(d <= 30, $"delay {d}"));
    }

    [Fact]
    public void Minutes_CloseOnLaterMinuteAndLateDeltasJoinTheOpenMinute()
    {
        var s = new DetectorScenario();
        static ArmDelta A(long users, long conversions) => new("control", users, conversions, 0, 0, 0, 0, 0);
        s.Apply(0, DetectorScenario.Start + 10_000, A(100, 5));
        s.Apply(1, DetectorScenario.Start + 59_999, A(50, 1));
        Assert.Empty(s.State.Minutes.Series("control"));
        s.Apply(0, DetectorScenario.Start + 60_000, A(70, 7));      // minute 1 starts: minute 0 is final
        s.Apply(1, DetectorScenario.Start + 30_000, A(30, 3));      // partition 1 is behind: counted in the open minute 1
        s.Apply(2, null, A(1000, 1000));                              // unknown watermark (format 1): not charted
        s.Apply(0, DetectorScenario.Start + 185_000, A(1, 0));      // minute 3: minute 1 final, minute 2 had nothing
        var minute0 = DetectorScenario.Start / 60_000;
        Assert.Equal([new MinuteCount(minute0, 150, 6), new MinuteCount(minute0 + 1, 100, 10)], s.State.Minutes.Series("control"));
        Assert.Equal(minute0 + 3, s.State.Minutes.OpenMinute);
        Assert.Equal(DetectorScenario.Start + 185_000, s.State.WatermarkMs);
        Assert.Equal(1, s.State.Arm("control").Users - 1250);
    }

    [Fact]
    public void Series_IsBoundedToConfiguredMinutes()
    {
        var s = new DetectorScenario();
        for (var m = 0; m < 100; m++) s.Apply(0, DetectorScenario.Start + m * 60_000L, new ArmDelta("control", 10, 1, 0, 0, 0, 0, 0));
        var series = s.State.Minutes.Series("control");
        Assert.Equal(DetectorOptions.Default.SeriesMinutes, series.Count);
        Assert.Equal(DetectorScenario.Start / 60_000 + 98, series[^1].Minute);
    }
}
