using System.Text;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Histogram of per-user value totals over fixed bins, so the experiment entity can run a rank test (Mann–Whitney)
/// without seeing individual users. Bins, in value order, are identified by a signed code:
/// <list type="bullet">
/// <item>0: the value 0 exactly (every user starts there at exposure; for revenue most users stay there);</item>
/// <item>+1 … +<see cref="MagnitudeBins"/>: positive values in quarter-octave bins [2^(e + j/4), 2^(e + (j+1)/4)),
/// from 2^<see cref="MinExponent"/> (≈ 0.00098) to 2^<see cref="MaxExponent"/> (≈ 1.07e9); smaller positive values fall
/// into the first bin and larger ones (and +∞) into the last;</item>
/// <item>−1 … −<see cref="MagnitudeBins"/>: negative values (refunds), mirrored: the bin of −v is minus the bin of v.</item>
/// </list>
/// Bin edges are found from the IEEE exponent and fixed mantissa thresholds, not from a logarithm, so every node puts a
/// value into the same bin: a user moved out of a bin on one node was put there by the same rule. NaN goes to bin 0.
/// Deltas carry signed counts (a move is −1 in one bin and +1 in another); accumulated counts are then non-negative.
/// Immutable; only non-zero counts are stored, in bin order.
/// </summary>
public sealed class ValueHistogram : IEquatable<ValueHistogram>
{
    /// <summary>Exponent of the lower edge of the first positive bin.</summary>
    public const int MinExponent = -10;
    /// <summary>Exponent of the upper edge of the last positive bin.</summary>
    public const int MaxExponent = 30;
    /// <summary>Bins per doubling of the value.</summary>
    public const int BinsPerOctave = 4;
    /// <summary>Bins on each side of zero.</summary>
    public const int MagnitudeBins = (MaxExponent - MinExponent) * BinsPerOctave;
    /// <summary>Number of bins in total (negative, zero, positive).</summary>
    public const int BinCount = 2 * MagnitudeBins + 1;

    // Mantissa thresholds 2^(1/4), 2^(2/4), 2^(3/4): exact constants, so binning is the same on every platform.
    private const double Quarter1 = 1.1892071150027210667, Quarter2 = 1.4142135623730950488, Quarter3 = 1.6817928305074290861;

    private readonly short[] bins;
    private readonly long[] counts;

    private ValueHistogram(short[] bins, long[] counts) { this.bins = bins; this.counts = counts; }

    /// <summary>No users (also what version-1 data, written before histograms existed, reads as).</summary>
    public static ValueHistogram Empty { get; } = new([], []);

    /// <summary>Number of non-zero bins.</summary>
    public int Count => bins.Length;

    /// <summary>Sum of all counts: the number of users when the histogram is complete.</summary>
    public long Total => counts.Sum();

    /// <summary>Whether any bin has a negative count (never true for a complete arm total).</summary>
    public bool HasNegativeCounts => counts.Any(c => c < 0);

    /// <summary>The non-zero bins in ascending bin order.</summary>
    public IEnumerable<(int Bin, long Count)> Bins => bins.Select((b, i) => ((int)b, counts[i]));

    /// <summary>The count of one bin (0 if absent).</summary>
    public long this[int bin] => Array.BinarySearch(bins, (short)bin) is var i and >= 0 ? counts[i] : 0;

    /// <summary>The bin code of a value (see the class summary).</summary>
    public static int BinOf(double value)
    {
        if (value == 0 || double.IsNaN(value)) return 0;
        var magnitude = Math.Abs(value);
        int index;
        if (double.IsPositiveInfinity(magnitude)) index = MagnitudeBins - 1;
        else
        {
            // floor(log2 v) from the exponent field; the mantissa in [1, 2) picks the quarter.
            var e = Math.ILogB(magnitude);
            var m = Math.ScaleB(magnitude, -e);
            var quarter = m < Quarter1 ? 0 : m < Quarter2 ? 1 : m < Quarter3 ? 2 : 3;
            index = (int)Math.Clamp(((long)e - MinExponent) * BinsPerOctave + quarter, 0, MagnitudeBins - 1);
        }
        return value > 0 ? index + 1 : -(index + 1);
    }

    /// <summary>The geometric centre of a bin (0 for bin 0): a value that <see cref="BinOf"/> maps back to the bin.</summary>
    public static double Representative(int bin)
    {
        if (bin == 0) return 0;
        if (Math.Abs(bin) > MagnitudeBins) throw new ArgumentOutOfRangeException(nameof(bin), bin, $"bins are −{MagnitudeBins} … {MagnitudeBins}");
        var centre = Math.Pow(2, MinExponent + (Math.Abs(bin) - 0.5) / BinsPerOctave);
        return bin > 0 ? centre : -centre;
    }

    /// <summary>A histogram from (bin, count) pairs; repeated bins add, zero counts are dropped.</summary>
    public static ValueHistogram From(IEnumerable<KeyValuePair<int, long>> binCounts)
    {
        var sorted = new SortedDictionary<int, long>();
        foreach (var (bin, count) in binCounts)
        {
            if (Math.Abs(bin) > MagnitudeBins) throw new ArgumentOutOfRangeException(nameof(binCounts), bin, $"bins are −{MagnitudeBins} … {MagnitudeBins}");
            sorted[bin] = sorted.GetValueOrDefault(bin) + count;
        }
        var nonZero = sorted.Where(kv => kv.Value != 0).ToArray();
        return nonZero.Length == 0 ? Empty : new(nonZero.Select(kv => (short)kv.Key).ToArray(), nonZero.Select(kv => kv.Value).ToArray());
    }

    /// <summary>The histogram of a list of values (one user each).</summary>
    public static ValueHistogram Of(IEnumerable<double> values) => From(values.Select(v => new KeyValuePair<int, long>(BinOf(v), 1)));

    /// <summary>Bin-wise sum (merge of two sorted sparse lists).</summary>
    public ValueHistogram Add(ValueHistogram other)
    {
        if (other.Count == 0) return this;
        if (Count == 0) return other;
        var b = new List<short>(Count + other.Count);
        var c = new List<long>(Count + other.Count);
        int i = 0, j = 0;
        while (i < bins.Length || j < other.bins.Length)
        {
            short bin; long count;
            if (j >= other.bins.Length || (i < bins.Length && bins[i] < other.bins[j])) { bin = bins[i]; count = counts[i++]; }
            else if (i >= bins.Length || other.bins[j] < bins[i]) { bin = other.bins[j]; count = other.counts[j++]; }
            else { bin = bins[i]; count = counts[i++] + other.counts[j++]; }
            if (count == 0) continue;
            b.Add(bin);
            c.Add(count);
        }
        return b.Count == 0 ? Empty : new(b.ToArray(), c.ToArray());
    }

    /// <summary>Counts of all <see cref="BinCount"/> bins in value order (index = bin + <see cref="MagnitudeBins"/>).</summary>
    public long[] Dense()
    {
        var dense = new long[BinCount];
        for (var i = 0; i < bins.Length; i++) dense[bins[i] + MagnitudeBins] = counts[i];
        return dense;
    }

    /// <summary>Writes the non-zero bins: count, then (Int16 bin, Int64 count) pairs.</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(bins.Length);
        for (var i = 0; i < bins.Length; i++) { w.Write(bins[i]); w.Write(counts[i]); }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote; rejects unsorted, repeated or out-of-range bins.</summary>
    public static ValueHistogram ReadFrom(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > BinCount) throw new InvalidDataException($"histogram bin count {n} is outside 0 … {BinCount}");
        if (n == 0) return Empty;
        var b = new short[n];
        var c = new long[n];
        for (var i = 0; i < n; i++)
        {
            b[i] = r.ReadInt16();
            c[i] = r.ReadInt64();
            if (Math.Abs((int)b[i]) > MagnitudeBins || (i > 0 && b[i] <= b[i - 1]) || c[i] == 0)
                throw new InvalidDataException($"histogram bin {b[i]} is out of range, out of order or empty");
        }
        return new(b, c);
    }

    /// <inheritdoc />
    public bool Equals(ValueHistogram? other) =>
        other is not null && bins.AsSpan().SequenceEqual(other.bins) && counts.AsSpan().SequenceEqual(other.counts);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ValueHistogram);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        for (var i = 0; i < bins.Length; i++) { h.Add(bins[i]); h.Add(counts[i]); }
        return h.ToHashCode();
    }

    /// <summary>Bin:count pairs, e.g. <c>{0:12 17:-1 18:1}</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("{");
        for (var i = 0; i < bins.Length; i++)
            sb.Append(i == 0 ? "" : " ").Append(bins[i]).Append(':').Append(counts[i]);
        return sb.Append('}').ToString();
    }
}
