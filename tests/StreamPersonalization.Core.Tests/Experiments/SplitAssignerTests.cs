using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Experiments;

public class SplitAssignerTests
{
    private const int Users = 100_000;

    /// <summary>Proportion checks allow 4 binomial standard deviations: a correct hash fails one with probability ≈ 6e-5.</summary>
    private const double Sigmas = 4;

    /// <summary>Independence checks reject at p &lt; 0.001.</summary>
    private const double Alpha = 0.001;

    [Theory]
    // Expected values computed independently with Python: struct.unpack('>Q', hashlib.sha256((salt + ':' + user).encode()).digest()[:8]).
    [InlineData("exp-checkout-1", "user-000001", 0x353278429880ace0UL, "control")]
    [InlineData("exp-checkout-1", "user-000002", 0x9dd4840d2070910dUL, "treatment")]
    [InlineData("checkout_button", "u-4", 0x0b6d5edc14d4a663UL, "control")]
    [InlineData("checkout_button", "u-42", 0xd5c91fe8966812b3UL, "treatment")]
    [InlineData("checkout_button", "\u00fc-\u00df-7", 0xcb710caaf6ee8fa1UL, "treatment")]
    public void Assign_PinnedUsers_NeverChange(string salt, string user, ulong bucket, string variant)
    {
        Assert.Equal(bucket, AssignmentHash.Bucket(salt, user));
        Assert.Equal(variant, SplitAssigner.Assign(ExperimentFixtures.Fixed() with { Salt = salt }, user));
    }

    [Fact]
    public void Assign_SameUser_SameVariantAcrossCallsAndInstances()
    {
        var first = ExperimentFixtures.Fixed();
        var factorial = ExperimentFixtures.Factorial();
        for (var i = 0; i < 1000; i++)
        {
            var user = ExperimentFixtures.User(i);
            var rebuilt = ExperimentFixtures.Fixed();
            Assert.Equal(SplitAssigner.Assign(first, user), SplitAssigner.Assign(first, user));
            Assert.Equal(SplitAssigner.Assign(first, user), SplitAssigner.Assign(rebuilt, user));
            Assert.Equal(SplitAssigner.Assign(factorial, user), SplitAssigner.Assign(ExperimentFixtures.Factorial(), user));
        }
    }

    [Fact]
    public void Assign_SaltDefaultsToId_SaltNotIdDecides()
    {
        var byId = ExperimentFixtures.Fixed("exp-a");
        var renamedSameSalt = ExperimentFixtures.Fixed("exp-b") with { Salt = "exp-a" };

        for (var i = 0; i < 1000; i++)
            Assert.Equal(SplitAssigner.Assign(byId, ExperimentFixtures.User(i)), SplitAssigner.Assign(renamedSameSalt, ExperimentFixtures.User(i)));
    }

    [Theory]
    [InlineData(new double[] { 50, 50 })]
    [InlineData(new double[] { 10, 30, 60 })]
    [InlineData(new double[] { 1, 1, 1, 1, 96 })]
    public void Assign_WeightedSplit_ProportionsWithinFourSigma(double[] weights)
    {
        var e = ExperimentFixtures.Fixed("split", [.. weights.Select((w, i) => ($"v{i}", w))]);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < Users; i++)
        {
            var v = SplitAssigner.Assign(e, ExperimentFixtures.User(i));
            counts[v] = counts.GetValueOrDefault(v) + 1;
        }

        var total = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            var p = weights[i] / total;
            var sd = Math.Sqrt(Users * p * (1 - p));
            var observed = counts.GetValueOrDefault($"v{i}");
            Assert.True(Math.Abs(observed - Users * p) <= Sigmas * sd,
                $"v{i}: {observed} of {Users}, expected {Users * p:F0} ± {Sigmas * sd:F0}");
        }
    }

    [Fact]
    public void Assign_Factorial_FactorsIndependentAndBalanced()
    {
        var e = ExperimentFixtures.Factorial();
        var table = new long[2, 2];
        for (var i = 0; i < Users; i++)
        {
            var cell = e.Variants.Select(v => v.Id).ToList().IndexOf(SplitAssigner.Assign(e, ExperimentFixtures.User(i)));
            table[cell / 2, cell % 2]++;
        }

        var independence = ChiSquare.Independence(table);
        Assert.True(independence.PValue > Alpha, $"color × position chi-square p = {independence.PValue}");
        var sd = Math.Sqrt(Users * 0.25);
        foreach (var count in table)
            Assert.True(Math.Abs(count - Users / 4.0) <= Sigmas * Math.Sqrt(Users * 0.25 * 0.75), $"cell count {count}, expected {Users / 4} ± {Sigmas * sd:F0}");
    }

    [Fact]
    public void Assign_Factorial_CellMatchesPerFactorLevels()
    {
        var e = ExperimentFixtures.Factorial();
        for (var i = 0; i < 100; i++)
        {
            var user = ExperimentFixtures.User(i);
            var color = e.Factors[0].Levels[SplitAssigner.FactorLevel(e.Salt, e.Factors[0], user)];
            var position = e.Factors[1].Levels[SplitAssigner.FactorLevel(e.Salt, e.Factors[1], user)];
            Assert.Equal($"color={color},position={position}", SplitAssigner.Assign(e, user));
        }
    }

    [Fact]
    public void Assign_DifferentSalts_IndependentAssignments()
    {
        var a = ExperimentFixtures.Fixed() with { Salt = "salt-a" };
        var b = ExperimentFixtures.Fixed() with { Salt = "salt-b" };
        var table = new long[2, 2];
        for (var i = 0; i < Users; i++)
        {
            var user = ExperimentFixtures.User(i);
            table[SplitAssigner.Assign(a, user) == "control" ? 0 : 1, SplitAssigner.Assign(b, user) == "control" ? 0 : 1]++;
        }

        var result = ChiSquare.Independence(table);
        Assert.True(result.PValue > Alpha, $"salt-a × salt-b chi-square p = {result.PValue}, table [{table[0, 0]}, {table[0, 1]}; {table[1, 0]}, {table[1, 1]}]");
    }

    [Fact]
    public void Assign_HotPath_DoesNotAllocate()
    {
        var fixedSplit = ExperimentFixtures.Fixed();
        var factorial = ExperimentFixtures.Factorial();
        var users = Enumerable.Range(0, 256).Select(ExperimentFixtures.User).ToArray();
        foreach (var user in users)
        {
            SplitAssigner.Assign(fixedSplit, user);
            SplitAssigner.Assign(factorial, user);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var user in users)
        {
            SplitAssigner.Assign(fixedSplit, user);
            SplitAssigner.Assign(factorial, user);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Assign_Bandit_Throws()
    {
        Assert.Throws<ArgumentException>(() => SplitAssigner.Assign(ExperimentFixtures.Bandit(), "u"));
    }

    [Fact]
    public void Bucket_LongKey_SameAsDefinitionViaPooledBuffer()
    {
        var user = new string('x', 1000);
        var expected = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("salt:" + user)));

        Assert.Equal(expected, AssignmentHash.Bucket("salt", user));
        Assert.Equal(AssignmentHash.Bucket("salt:scope", user), AssignmentHash.Bucket("salt", "scope", user));
    }

    [Fact]
    public void ToUnit_Extremes_StayInHalfOpenUnitInterval()
    {
        Assert.Equal(0.0, AssignmentHash.ToUnit(0));
        Assert.True(AssignmentHash.ToUnit(ulong.MaxValue) < 1.0);
    }
}
