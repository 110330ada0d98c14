using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>
/// Seeded generator of experiment data: each user is served an arm with the given shares, converts with the arm's
/// true rate (binary) or gets value y = 2 + 0.8x + ε + effect with covariate x ~ N(10, 3²) (continuous), and users
/// are folded into per-partition deltas of 1,000 users each.
/// </summary>
internal static class Simulation
{
    public static ExperimentState Run(ExperimentShape shape, double[] truth, double[] servedShares, int users, int seed, bool covariate = false)
    {
        var rng = new Random(seed);
        var state = ExperimentState.For(shape);
        const int partitions = 4, chunk = 1000;
        var marks = new long[partitions];
        for (var start = 0; start < users; start += chunk)
        {
            var k = shape.VariantIds.Count;
            var sums = new double[k, 7];
            for (var u = start; u < Math.Min(users, start + chunk); u++)
            {
                var arm = Pick(rng, servedShares);
                double x = covariate ? 10 + 3 * Gaussian(rng) : 0, y;
                bool converted = false;
                if (shape.PrimaryMetric == MetricKind.Binary) { converted = rng.NextDouble() < truth[arm]; y = converted ? 1 : 0; }
                else y = 2 + 0.8 * x + Gaussian(rng) + truth[arm];
                sums[arm, 0]++;
                sums[arm, 1] += converted ? 1 : 0;
                if (shape.PrimaryMetric == MetricKind.Continuous) { sums[arm, 2] += y; sums[arm, 3] += y * y; }
                sums[arm, 4] += x; sums[arm, 5] += x * x; sums[arm, 6] += x * y;
            }
            var p = start / chunk % partitions;
            var arms = Enumerable.Range(0, k).Select(i => new ArmDelta(shape.VariantIds[i], (long)sums[i, 0], (long)sums[i, 1],
                sums[i, 2], sums[i, 3], sums[i, 4], sums[i, 5], sums[i, 6])).ToArray();
            var outcome = state.Apply(new ExperimentDelta(shape.ExperimentId, p, marks[p], marks[p] + 5000, arms));
            if (outcome != ApplyOutcome.Applied) throw new InvalidOperationException(outcome.ToString());
            marks[p] += 5000;
        }
        return state;
    }

    private static int Pick(Random rng, double[] shares)
    {
        var r = rng.NextDouble() * shares.Sum();
        for (var i = 0; i < shares.Length - 1; i++) { if (r < shares[i]) return i; r -= shares[i]; }
        return shares.Length - 1;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
