namespace StreamPersonalization.Node.Shards;

/// <summary>
/// Bounded exponential back-off for a shard waiting on its store: <see cref="Initial"/>, doubling up to
/// <see cref="Max"/>, each delay spread by ±<see cref="Jitter"/> so the shards of a node do not retry in lockstep.
/// The wall clock only decides when to try again, never an output.
/// </summary>
public sealed record RetryBackoff
{
    /// <value>First delay. Default 100 ms. Allowed 1 ms..1 minute.</value>
    public TimeSpan Initial { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <value>Longest delay. Default 10 seconds. Allowed Initial..10 minutes.</value>
    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>Relative spread of each delay. Default 0.2. Allowed 0..1.</value>
    public double Jitter { get; init; } = 0.2;

    public RetryBackoff Validate()
    {
        NodeOptions.Require(Initial >= TimeSpan.FromMilliseconds(1) && Initial <= TimeSpan.FromMinutes(1), "RetryBackoff:Initial", Initial, "00:00:00.001..00:01:00");
        NodeOptions.Require(Max >= Initial && Max <= TimeSpan.FromMinutes(10), "RetryBackoff:Max", Max, "Initial..00:10:00");
        NodeOptions.Require(Jitter is >= 0 and <= 1, "RetryBackoff:Jitter", Jitter, "0..1");
        return this;
    }

    /// <summary>Delay before retry number <paramref name="attempt"/> (1-based): min(Initial·2^(attempt−1), Max), jittered.</summary>
    public TimeSpan Delay(int attempt)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var ms = Math.Min(Initial.TotalMilliseconds * Math.Pow(2, exponent), Max.TotalMilliseconds);
        ms *= 1 + Jitter * (2 * Random.Shared.NextDouble() - 1);
        return TimeSpan.FromMilliseconds(Math.Max(1, ms));
    }

    public override string ToString() => $"RetryBackoff({Initial.TotalMilliseconds} ms..{Max.TotalSeconds} s ±{Jitter:P0})";
}
