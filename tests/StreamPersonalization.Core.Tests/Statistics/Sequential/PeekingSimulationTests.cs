using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics.Bayesian;
using StreamPersonalization.Core.Statistics.Sequential;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Statistics.Sequential;

public sealed class PeekingSimulationTests(ITestOutputHelper output)
{
    // 2,000 A/A runs: the Monte Carlo standard error of a 5% rate is √(0.05·0.95/2000) ≈ 0.49%, so the stated
    // tolerance of 1 percentage point is about two standard errors.
    private const int Runs = 2_000;
    private const int PerArm = 2_000;
    private const int PeekEvery = 20;
    private const double Alpha = 0.05;
    private const double Tolerance = 0.01;

    [Fact]
    public void AaTest_ContinuousPeeking_MsprtHoldsAlphaWhileNaiveTTestsDoNot()
    {
        var peeks = PerArm / PeekEvery;
        // Two-sided pooled t critical values for df = 2n − 2 at each peek (naive fixed-horizon test reused at every look).
        var critical = new double[peeks + 1];
        for (var k = 1; k <= peeks; k++) critical[k] = StudentT.InvCDF(0, 1, 2 * k * PeekEvery - 2, 1 - Alpha / 2);

        int msprtRejects = 0, naiveRejects = 0;
        for (var run = 0; run < Runs; run++)
        {
            var rng = new Xoshiro256StarStar(77_000UL + (ulong)run);
            double sa = 0, sa2 = 0, sb = 0, sb2 = 0;
            var state = MsprtState.Start(0.01);   // τ² = 0.01: plausible effects of about 0.1σ
            bool msprtRejected = false, naiveRejected = false;
            for (var n = 1; n <= PerArm; n++)
            {
                var a = rng.NextNormal();
                var b = rng.NextNormal();
                sa += a; sa2 += a * a; sb += b; sb2 += b * b;
                if (n % PeekEvery != 0) continue;
                double ma = sa / n, mb = sb / n;
                double va = (sa2 - n * ma * ma) / (n - 1), vb = (sb2 - n * mb * mb) / (n - 1);
                var d = Msprt.DifferenceInMeans(n, ma, va, n, mb, vb);
                state = state.Update(d).State;
                msprtRejected |= state.PValue <= Alpha;
                naiveRejected |= Math.Abs(d.Difference) / Math.Sqrt(d.Variance) > critical[n / PeekEvery];
            }
            if (msprtRejected) msprtRejects++;
            if (naiveRejected) naiveRejects++;
        }
        double msprtRate = (double)msprtRejects / Runs, naiveRate = (double)naiveRejects / Runs;
        output.WriteLine($"A/A, {Runs} runs, {peeks} peeks of {PeekEvery}/arm up to {PerArm}/arm: mSPRT false-positive rate {msprtRate:P2}, naive t-test {naiveRate:P2}");
        Assert.True(msprtRate <= Alpha + Tolerance, $"mSPRT false-positive rate {msprtRate:P2}");
        Assert.True(naiveRate > Alpha + 3 * Math.Sqrt(Alpha * (1 - Alpha) / Runs), $"naive rate {naiveRate:P2}");
    }
}
