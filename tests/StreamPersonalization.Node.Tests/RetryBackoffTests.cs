using StreamPersonalization.Node.Shards;

namespace StreamPersonalization.Node.Tests;

public sealed class RetryBackoffTests
{
    [Fact]
    public void Delay_DoublesFromInitialUpToMax_WithinJitter()
    {
        var b = new RetryBackoff { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(10), Jitter = 0.2 };
        for (var attempt = 1; attempt <= 40; attempt++)
        {
            // min(Initial · 2^(attempt−1), Max), spread by ±20 %.
            var nominal = Math.Min(100 * Math.Pow(2, attempt - 1), 10_000);
            for (var i = 0; i < 50; i++) Assert.InRange(b.Delay(attempt).TotalMilliseconds, nominal * 0.8 - 1e-9, nominal * 1.2 + 1e-9);
        }
        var exact = b with { Jitter = 0 };
        Assert.Equal([100.0, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000], Enumerable.Range(1, 9).Select(a => exact.Delay(a).TotalMilliseconds));
    }

    [Fact]
    public void Validate_NamesTheKeyAndAllowedValues()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new RetryBackoff { Initial = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(1) }.Validate());
        Assert.Contains("RetryBackoff:Max", ex.Message);
        Assert.Contains("Initial..00:10:00", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryBackoff { Jitter = 1.5 }.Validate());
    }
}
