using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary><see cref="EventIdWindow"/> against a brute-force statement of its rule over seeded random streams.</summary>
public sealed class EventIdWindowTests
{
    /// <summary>
    /// Brute force: keep every accepted (id, ts); an event is a duplicate iff, among accepted entries with ts ≥ threshold,
    /// the <c>capacity</c> largest by (ts, arrival) contain its id. Besides the prune before each decision (as the shard
    /// does), the window is pruned at random moments with older thresholds (as timers do): decisions must not depend on it.
    /// </summary>
    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 16)]
    [InlineData(3, 64)]
    [InlineData(4, 1)]
    public void ContainsAfterPrune_RandomStreams_EqualsBruteForceRule(int seed, int capacity)
    {
        var random = new Random(seed);
        var window = new EventIdWindow();
        var accepted = new List<(string Id, long Ts)>();
        long watermark = 0, threshold = long.MinValue;
        var duplicates = 0;
        for (var step = 0; step < 20_000; step++)
        {
            watermark += random.Next(0, 3);
            threshold = Math.Max(threshold, watermark - 20);
            var ts = watermark - random.Next(0, 30);
            var id = "e" + random.Next(0, 60);
            accepted.RemoveAll(a => a.Ts < threshold - 1_000);   // far below the (monotone) threshold: can never count again
            var expected = accepted.Select((a, arrival) => (a.Id, a.Ts, arrival))
                .Where(a => a.Ts >= threshold)
                .OrderByDescending(a => a.Ts).ThenByDescending(a => a.arrival)
                .Take(capacity).Any(a => a.Id == id);
            if (random.Next(4) == 0) window.Prune(threshold - random.Next(0, 10));
            window.Prune(threshold);
            var actual = window.Contains(EventIdWindow.Hash(id));
            Assert.True(expected == actual, $"step {step}: id {id} ts {ts} threshold {threshold}: expected duplicate={expected}");
            if (actual) { duplicates++; continue; }
            accepted.Add((id, ts));
            window.Add(EventIdWindow.Hash(id), ts, capacity);
            Assert.True(window.Count <= capacity);
        }
        Assert.InRange(duplicates, 100, 19_900);   // the stream exercises both outcomes
    }

    [Fact]
    public void WriteRead_RoundTripsEntriesInArrivalOrder()
    {
        var window = new EventIdWindow();
        for (var i = 0; i < 10; i++) window.Add(EventIdWindow.Hash("id" + i), 1_000 - i * 7, 64);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) window.Write(w);
        ms.Position = 0;
        var read = EventIdWindow.Read(new BinaryReader(ms))!;
        Assert.Equal(window.Entries, read.Entries);
        Assert.Null(EventIdWindow.Read(new BinaryReader(new MemoryStream(new byte[4]))));   // count 0: no window kept
    }

    [Fact]
    public void Hash_IsStableFnv1a()
    {
        // FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the single unit 0x61 ("a"):
        // (basis ^ 0x61) * prime mod 2^64 = 0xaf63dc4c8601ec8c, the published FNV-1a 64 test vector for "a".
        Assert.Equal(0xcbf29ce484222325UL, EventIdWindow.Hash(""));
        Assert.Equal(0xaf63dc4c8601ec8cUL, EventIdWindow.Hash("a"));
        Assert.NotEqual(EventIdWindow.Hash("ab"), EventIdWindow.Hash("ba"));
    }
}
