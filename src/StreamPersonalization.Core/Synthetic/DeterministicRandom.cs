namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// xoshiro256** seeded through SplitMix64. The generator uses its own PRNG instead of
/// <see cref="System.Random"/> so output stays byte-identical for a seed regardless of runtime
/// changes to <c>Random</c>'s algorithm, and so independent streams (profiles, behaviour,
/// transport, bad records) can be derived from one seed without disturbing each other.
/// </summary>
internal sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <param name="seed">User-facing seed.</param>
    /// <param name="stream">Stream number; different streams of one seed are independent.</param>
    public DeterministicRandom(long seed, ulong stream)
    {
        ulong x = unchecked((ulong)seed ^ (stream * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, maxExclusive); multiply-shift, bias is below 2^-32 and irrelevant here.</summary>
    public int NextInt(int maxExclusive) => (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>Uniform in [minInclusive, maxInclusive].</summary>
    public long NextLong(long minInclusive, long maxInclusive)
    {
        ulong range = (ulong)(maxInclusive - minInclusive) + 1;
        if (range == 0) return (long)NextUInt64();
        return minInclusive + (long)(ulong)(((UInt128)NextUInt64() * range) >> 64);
    }

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Exponential with the given mean (1 - U keeps the log argument in (0, 1]).</summary>
    public double Exponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    /// <summary>Standard normal via Box-Muller (one of the pair; simplicity over speed, used for profiles only).</summary>
    public double StandardNormal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Geometric number of trials (>= 1) with the given mean; mean 1 always yields 1.</summary>
    public int Geometric(double mean, int cap)
    {
        if (mean <= 1.0) return 1;
        double p = 1.0 / mean;
        double n = Math.Ceiling(Math.Log(1.0 - NextDouble()) / Math.Log(1.0 - p));
        return n < 1 ? 1 : n > cap ? cap : (int)n;
    }
}

/// <summary>Cumulative-weight table so weighted picks are one uniform draw plus a short scan.</summary>
internal sealed class WeightedTable<T>
{
    private readonly T[] _items;
    private readonly double[] _cumulative;

    public WeightedTable(IReadOnlyList<(T Item, double Weight)> entries)
    {
        _items = new T[entries.Count];
        _cumulative = new double[entries.Count];
        double sum = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            sum += entries[i].Weight;
            _items[i] = entries[i].Item;
            _cumulative[i] = sum;
        }
    }

    public T Pick(DeterministicRandom rng)
    {
        double u = rng.NextDouble() * _cumulative[^1];
        for (int i = 0; i < _cumulative.Length - 1; i++)
            if (u < _cumulative[i]) return _items[i];
        return _items[^1];
    }
}
