using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Tests.Engagement;

public sealed class HalfLifeDecayTests
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);
    private const long WeekMs = 7 * 86_400_000L;

    [Fact]
    public void Factor_AtZero_IsOne() => Assert.Equal(1.0, new HalfLifeDecay(Week).Factor(0));

    [Fact]
    public void Factor_Negative_IsOne() => Assert.Equal(1.0, new HalfLifeDecay(Week).Factor(-1_000));

    [Fact]
    public void Factor_OneHalfLife_IsHalf() => Assert.Equal(0.5, new HalfLifeDecay(Week).Factor(WeekMs), 1e-15);

    [Fact]
    public void Factor_TwoHalfLives_IsQuarter() => Assert.Equal(0.25, new HalfLifeDecay(Week).Factor(2 * WeekMs), 1e-15);

    [Theory]
    [InlineData(60_000L, 30_000L)]          // 1 min half-life, half of it
    [InlineData(60_000L, 600_000L)]         // ten half-lives: 2^-10
    [InlineData(3_600_000L, 5_400_000L)]    // 1.5 half-lives
    [InlineData(604_800_000L, 1L)]
    public void Factor_Equals_TwoToTheMinusElapsedOverHalfLife(long halfLifeMs, long elapsedMs)
    {
        var expected = Math.Pow(2, -(double)elapsedMs / halfLifeMs);
        var actual = new HalfLifeDecay(TimeSpan.FromMilliseconds(halfLifeMs)).Factor(elapsedMs);
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * expected, $"factor {actual}, expected {expected}");
    }

    [Fact]
    public void Factor_IsMultiplicative()
    {
        var d = new HalfLifeDecay(TimeSpan.FromHours(5));
        Assert.Equal(d.Factor(3_000_000) * d.Factor(7_000_000), d.Factor(10_000_000), 1e-12);
    }
}
