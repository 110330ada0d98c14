using StreamPersonalization.Core.Statistics.Bayesian;
using StreamPersonalization.Core.Statistics.Detectors;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Statistics.Detectors;

public sealed class ControlChartTests(ITestOutputHelper output)
{
    // Per-minute conversion rate 5% over 2,000 exposures a minute: binomial noise σ = √(0.05 · 0.95 / 2000) ≈ 0.00487.
    private const double Rate = 0.05;
    private static readonly double Sigma = Math.Sqrt(Rate * (1 - Rate) / 2000);
    private const int WarmUp = 120, Runs = 200;

    private static double Minute(ref Xoshiro256StarStar rng, double rate) => rate + Sigma * rng.NextNormal();

    /// <summary>Fraction of runs with any alarm over <paramref name="minutes"/> stationary minutes after warm-up.</summary>
    private static double FalseAlarmRate<T>(Func<T> create, Func<T, double, (T, bool)> update, int minutes, ulong seedBase)
    {
        var alarmed = 0;
        for (var run = 0; run < Runs; run++)
        {
            var rng = new Xoshiro256StarStar(seedBase + (ulong)run);
            var s = create();
            var any = false;
            for (var t = 0; t < WarmUp + minutes; t++) { (s, var alarm) = update(s, Minute(ref rng, Rate)); any |= alarm; }
            if (any) alarmed++;
        }
        return (double)alarmed / Runs;
    }

    /// <summary>Per run, minutes from a step of <paramref name="shift"/> σ until the first alarm (int.MaxValue if none in 60).</summary>
    private static List<int> Delays<T>(Func<T> create, Func<T, double, (T, bool)> update, double shift, ulong seedBase)
    {
        var delays = new List<int>();
        for (var run = 0; run < Runs; run++)
        {
            var rng = new Xoshiro256StarStar(seedBase + (ulong)run);
            var s = create();
            for (var t = 0; t < WarmUp; t++) (s, _) = update(s, Minute(ref rng, Rate));
            var delay = int.MaxValue;
            for (var t = 1; t <= 60; t++)
            {
                (s, var alarm) = update(s, Minute(ref rng, Rate + shift * Sigma));
                if (alarm) { delay = t; break; }
            }
            delays.Add(delay);
        }
        return delays;
    }

    private void Report(string name, double falseRate, List<int> delays)
    {
        var detected = delays.Count(d => d != int.MaxValue);
        var sorted = delays.Order().ToList();
        output.WriteLine($"{name}: stationary 240 min after warm-up, alarm in {falseRate:P1} of {Runs} runs; 2σ step detected within 60 min in {detected}/{Runs} runs, median delay {sorted[Runs / 2]} min, 95th percentile {sorted[Runs * 95 / 100]} min");
    }

    [Fact]
    public void Ewma_StepChangeFires_StationaryNoiseQuiet()
    {
        var falseRate = FalseAlarmRate(() => Ewma.Create(), (s, x) => s.Update(x), 240, 10_000);
        var delays = Delays(() => Ewma.Create(), (s, x) => s.Update(x), 2.0, 20_000);
        Report("EWMA λ=0.2 L=4.5", falseRate, delays);
        Assert.True(falseRate <= 0.02, $"false-alarm rate {falseRate:P1}");
        Assert.All(delays, d => Assert.True(d <= 30));
    }

    [Fact]
    public void Cusum_StepChangeFires_StationaryNoiseQuiet()
    {
        var falseRate = FalseAlarmRate(() => Cusum.Create(), (s, x) => s.Update(x), 240, 30_000);
        var delays = Delays(() => Cusum.Create(), (s, x) => s.Update(x), 2.0, 40_000);
        Report("CUSUM k=1 h=6", falseRate, delays);
        Assert.True(falseRate <= 0.02, $"false-alarm rate {falseRate:P1}");
        Assert.All(delays, d => Assert.True(d <= 30));
    }

    [Fact]
    public void Update_DuringWarmUp_NeverAlarmsAndLearnsBaseline()
    {
        var e = Ewma.Create(warmUp: 4);
        foreach (var x in new[] { 1.0, 2.0, 3.0, 4.0 }) { (e, var alarm) = e.Update(x); Assert.False(alarm); }
        Assert.True(e.Monitoring);
        Assert.Equal(2.5, e.BaselineMean, 14);
        Assert.Equal(Math.Sqrt(5.0 / 3), e.BaselineStdDev, 14);
        var (after, fired) = e.Update(100.0);
        Assert.True(fired);
        Assert.Equal(0.2 * 100 + 0.8 * 2.5, after.Smoothed, 12);
    }

    [Fact]
    public void Update_NonFiniteValue_IgnoredWithoutAlarm()
    {
        var c = Cusum.Create(warmUp: 2);
        var (same, alarm) = c.Update(double.NaN);
        Assert.Same(c, same);
        Assert.False(alarm);
    }

    [Fact]
    public void Cusum_Alarm_RestartsSums()
    {
        var c = Cusum.Create(warmUp: 3);
        foreach (var x in new[] { 0.0, 1.0, 2.0 }) (c, _) = c.Update(x);   // μ₀ = 1, σ₀ = 1
        (c, var alarm) = c.Update(10.0);                                    // u = 9 ⇒ S⁺ = 9 − k = 8 > h = 6
        Assert.True(alarm);
        Assert.Equal(0.0, c.Upper);
        Assert.Equal(0.0, c.Lower);
    }

    [Fact]
    public void Create_InvalidParameters_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Ewma.Create(lambda: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cusum.Create(h: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cusum.Create(warmUp: 1));
    }
}
