namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>
/// Seeded, allocation-free random source: xoshiro256** (Blackman &amp; Vigna 2018) seeded through SplitMix64,
/// with Marsaglia polar normals, Marsaglia–Tsang (2000) gamma draws and Beta(a, b) = G_a / (G_a + G_b).
/// Why our own: System.Random's algorithm is not a documented contract, and posterior draws must be
/// reproducible from the seed alone (a result records the seed it used, gbstats style).
/// Determinism: the integer stream and <see cref="NextDouble"/> are bit-identical on every platform;
/// normal, gamma and beta draws use only <see cref="Math.Sqrt"/> (IEEE exact) and <see cref="Math.Log"/>,
/// so they are bit-identical on a given runtime and agree across platforms up to the last-ulp differences
/// a platform's log may have. It is a mutable struct: pass it by <c>ref</c>.
/// </summary>
public struct Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>Expands the 64-bit seed into the 256-bit state with SplitMix64, as the xoshiro authors recommend.</summary>
    public Xoshiro256StarStar(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
        _spareNormal = 0; _hasSpare = false;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        // SplitMix64 (Steele, Lea, Flood 2014): z = mix(x += golden gamma).
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits: rotl(s1 * 5, 7) * 9, then the xoshiro256 linear step.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits: (bits &gt;&gt; 11) · 2⁻⁵³.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Bernoulli(p) draw by comparing a 53-bit uniform with p; exact for p = 0 and p = 1.</summary>
    public bool NextBernoulli(double p) => NextDouble() < p;

    /// <summary>Standard normal by the Marsaglia polar method: x = u·sqrt(−2 ln s / s) for (u, v) uniform in the unit disc.</summary>
    public double NextNormal()
    {
        if (_hasSpare) { _hasSpare = false; return _spareNormal; }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        var m = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareNormal = v * m; _hasSpare = true;
        return u * m;
    }

    /// <summary>
    /// Gamma(shape, 1) by Marsaglia–Tsang: d = a − 1/3, c = 1/√(9d), accept d·v for v = (1 + c·x)³;
    /// shapes below 1 use Gamma(a + 1) · U^(1/a). Returns NaN for a non-positive or non-finite shape.
    /// </summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape)) return double.NaN;
        if (shape < 1)
        {
            var g = NextGamma(shape + 1);
            double u;
            do { u = NextDouble(); } while (u == 0);
            return g * Math.Exp(Math.Log(u) / shape);
        }
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = NextNormal(); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            var u = NextDouble();
            var x2 = x * x;
            if (u < 1 - 0.0331 * x2 * x2) return d * v;
            if (u > 0 && Math.Log(u) < 0.5 * x2 + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    public double NextBeta(double a, double b)
    {
        var x = NextGamma(a);
        var y = NextGamma(b);
        return x / (x + y);
    }
}
