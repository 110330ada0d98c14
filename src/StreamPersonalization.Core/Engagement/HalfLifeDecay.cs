namespace StreamPersonalization.Core.Engagement;

/// <summary>factor(Δt) = 2^(−Δt / halfLife) = exp(−Δt · ln2 / halfLife), Δt in ms.</summary>
public sealed class HalfLifeDecay(TimeSpan halfLife)
{
    private readonly double _lambdaPerMs = Math.Log(2) / halfLife.TotalMilliseconds;

    public double Factor(long elapsedMs) => elapsedMs <= 0 ? 1.0 : Math.Exp(-elapsedMs * _lambdaPerMs);
}
