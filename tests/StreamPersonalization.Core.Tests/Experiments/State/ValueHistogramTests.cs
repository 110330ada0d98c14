using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

public class ValueHistogramTests
{
    private const int Top = ValueHistogram.MagnitudeBins;

    [Fact]
    public void BinOf_ZeroAndEdges_FollowDocumentedLayout()
    {
        Assert.Equal(0, ValueHistogram.BinOf(0.0));
        Assert.Equal(0, ValueHistogram.BinOf(-0.0));
        Assert.Equal(0, ValueHistogram.BinOf(double.NaN));
        // 1 = 2^0 opens quarter 0 of octave 0, which comes after 10 octaves below it: bin 10·4 + 1.
        Assert.Equal(41, ValueHistogram.BinOf(1.0));
        Assert.Equal(40, ValueHistogram.BinOf(Math.BitDecrement(1.0)));
        Assert.Equal(42, ValueHistogram.BinOf(1.1892071150027210667));
        Assert.Equal(41, ValueHistogram.BinOf(Math.BitDecrement(1.1892071150027210667)));
        Assert.Equal(43, ValueHistogram.BinOf(Math.Sqrt(2)));
        Assert.Equal(45, ValueHistogram.BinOf(2.0));
        Assert.Equal(-45, ValueHistogram.BinOf(-2.0));
        // Clamping at both ends of the magnitude range.
        Assert.Equal(1, ValueHistogram.BinOf(Math.Pow(2, -10)));
        Assert.Equal(1, ValueHistogram.BinOf(1e-300));
        Assert.Equal(1, ValueHistogram.BinOf(double.Epsilon));
        Assert.Equal(Top, ValueHistogram.BinOf(Math.BitDecrement(Math.Pow(2, 30))));
        Assert.Equal(Top, ValueHistogram.BinOf(Math.Pow(2, 30)));
        Assert.Equal(Top, ValueHistogram.BinOf(double.MaxValue));
        Assert.Equal(Top, ValueHistogram.BinOf(double.PositiveInfinity));
        Assert.Equal(-Top, ValueHistogram.BinOf(double.NegativeInfinity));
    }

    [Fact]
    public void BinOf_LogSpacedValues_MatchLogarithmFormula()
    {
        // Reference: bin = clamp(⌊4·log₂ v⌋ + 40, 0, 159) + 1, skipping values whose 4·log₂ v is within 1e-9 of an edge.
        var rng = new Random(5);
        for (var i = 0; i < 100_000; i++)
        {
            var v = Math.Pow(2, rng.NextDouble() * 46 - 13);
            var q = 4 * Math.Log2(v);
            if (Math.Abs(q - Math.Round(q)) < 1e-9) continue;
            var expected = (int)Math.Clamp(Math.Floor(q) + 40, 0, Top - 1) + 1;
            Assert.Equal(expected, ValueHistogram.BinOf(v));
            Assert.Equal(-expected, ValueHistogram.BinOf(-v));
        }
    }

    [Fact]
    public void BinOf_IsMonotoneInTheValue()
    {
        var finite = ArbMap.Default.GeneratorFor<double>().Where(double.IsFinite);
        Check.QuickThrowOnFailure(Prop.ForAll((from a in finite from b in finite select (a, b)).ToArbitrary(), p =>
            p.a > p.b || ValueHistogram.BinOf(p.a) <= ValueHistogram.BinOf(p.b)));
    }

    [Fact]
    public void Representative_MapsBackToItsBin()
    {
        for (var bin = -Top; bin <= Top; bin++)
            Assert.Equal(bin, ValueHistogram.BinOf(ValueHistogram.Representative(bin)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ValueHistogram.Representative(Top + 1));
    }

    [Fact]
    public void Add_EqualsBinWiseSumOfDenseCounts()
    {
        var entry = from bin in Gen.Choose(-Top, Top) from count in Gen.Choose(-3, 3) select new KeyValuePair<int, long>(bin, count);
        var histogram = entry.ListOf().Select(ValueHistogram.From);
        Check.QuickThrowOnFailure(Prop.ForAll((from a in histogram from b in histogram select (a, b)).ToArbitrary(), p =>
        {
            var sum = p.a.Add(p.b);
            var expected = p.a.Dense().Zip(p.b.Dense(), (x, y) => x + y).ToArray();
            return sum.Dense().SequenceEqual(expected) && sum.Bins.All(b => b.Count != 0) && sum.Equals(p.b.Add(p.a))
                   && sum.Total == p.a.Total + p.b.Total;
        }));
    }

    [Fact]
    public void Of_CountsUsersPerBin()
    {
        var h = ValueHistogram.Of([0, 0, 1.0, 1.05, 2.0, -3.0]);
        Assert.Equal(6, h.Total);
        Assert.Equal(2, h[0]);
        Assert.Equal(2, h[41]);
        Assert.Equal(1, h[45]);
        Assert.Equal(1, h[ValueHistogram.BinOf(-3.0)]);
        Assert.Equal(0, h[7]);
        Assert.Equal("{-47:1 0:2 41:2 45:1}", h.ToString());
        Assert.Equal(ValueHistogram.Empty, ValueHistogram.From([new(3, 1), new(3, -1)]));
    }

    [Fact]
    public void WriteTo_ReadFrom_RoundTripsAndRejectsCorruption()
    {
        var h = ValueHistogram.From([new(0, 12), new(-5, 2), new(Top, -1)]);
        var bytes = Write(w => h.WriteTo(w));
        Assert.Equal(h, ValueHistogram.ReadFrom(new BinaryReader(new MemoryStream(bytes))));
        Assert.Same(ValueHistogram.Empty, ValueHistogram.ReadFrom(new BinaryReader(new MemoryStream(Write(w => ValueHistogram.Empty.WriteTo(w))))));
        // Out of order, out of range, and a zero count are not something WriteTo produces.
        foreach (var corrupt in new[] { Write(w => { w.Write(2); w.Write((short)3); w.Write(1L); w.Write((short)1); w.Write(1L); }),
                                         Write(w => { w.Write(1); w.Write((short)(Top + 1)); w.Write(1L); }),
                                         Write(w => { w.Write(1); w.Write((short)0); w.Write(0L); }),
                                         Write(w => w.Write(-1)) })
            Assert.Throws<InvalidDataException>(() => ValueHistogram.ReadFrom(new BinaryReader(new MemoryStream(corrupt))));
    }

    private static byte[] Write(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) write(w);
        return ms.ToArray();
    }
}
