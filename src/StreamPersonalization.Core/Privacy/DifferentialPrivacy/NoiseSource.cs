using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Privacy.DifferentialPrivacy;

/// <summary>
/// Seeded noise for DP releases on xoshiro256** (<see cref="Xoshiro256StarStar"/>), counting the draws so each
/// result can name its position in the stream. Privacy needs the seed to be unpredictable to anyone who sees the
/// output (a known seed lets them subtract the noise): derive it with <see cref="DeriveSeed"/> from a secret key and
/// the release period, which also makes a replayed release identical instead of a second, independently noised
/// copy (averaging copies would erode the guarantee). Not thread-safe.
/// Known limitation: textbook floating-point sampling (Mironov 2012, "On significance of the least significant bits
/// for differential privacy") leaks through the low bits of the noisy double; releases round their outputs, which
/// narrows but does not formally close that gap (a snapping mechanism would).
/// </summary>
public sealed class NoiseSource(ulong seed)
{
    private Xoshiro256StarStar _rng = new(seed);

    public ulong Seed { get; } = seed;

    /// <summary>Noise values drawn so far (the next draw's index).</summary>
    public long Draws { get; private set; }

    /// <summary>Seed = first 8 bytes (big-endian) of HMAC-SHA256(secret, UTF-8 "sp-dp-seed/" + context), e.g. context = period.</summary>
    public static ulong DeriveSeed(ReadOnlySpan<byte> secret, string context)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("sp-dp-seed/" + context), mac);
        return BinaryPrimitives.ReadUInt64BigEndian(mac);
    }

    /// <summary>Laplace(0, b) by inversion: for u uniform on (−½, ½), x = −b·sgn(u)·ln(1 − 2|u|).</summary>
    public double NextLaplace(double scale)
    {
        double u;
        do { u = _rng.NextDouble(); } while (u == 0);   // u ∈ (0, 1) so ln never sees 0
        u -= 0.5;
        Draws++;
        return -scale * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u));
    }

    /// <summary>Normal(0, σ²) as σ times a Marsaglia polar standard normal.</summary>
    public double NextGaussian(double sigma)
    {
        Draws++;
        return sigma * _rng.NextNormal();
    }

    public override string ToString() => $"NoiseSource(draws={Draws})";
}
