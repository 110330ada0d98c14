using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Sessions;

namespace StreamPersonalization.Core.Tests.Sessions;

public sealed class OpenSessionsTests
{
    private const long Min = 60_000;
    private const long T = 1_772_366_400_000;   // 2026-03-01T12:00:00Z

    // Defaults: Gap 30 min, MaxLength 4 h, Grace 5 min.
    private static readonly SessionOptions Defaults = new SessionOptions().Validate();

    private static OpenSessions With(params long[] timestamps)
    {
        var s = new OpenSessions();
        foreach (var t in timestamps) s.Add(new SessionEvent(t, 0, EventType.PageView));
        return s;
    }

    private static List<ClosedSession> CloseAll(OpenSessions s, SessionOptions? o = null)
    {
        var closed = new List<ClosedSession>();
        s.CloseDue(long.MaxValue, o ?? Defaults, closed);
        return closed;
    }

    private static List<(long Start, long End, int Events)> Shape(IEnumerable<ClosedSession> s) => s.Select(x => (x.StartMs, x.EndMs, x.Events)).ToList();

    [Fact]
    public void CloseDue_EventExactlyGapAfterLast_StartsNewSession()
    {
        Assert.Equal([(T, T, 1), (T + 30 * Min, T + 30 * Min, 1)], Shape(CloseAll(With(T, T + 30 * Min))));
    }

    [Fact]
    public void CloseDue_EventOneMsUnderGap_JoinsSession()
    {
        Assert.Equal([(T, T + 30 * Min - 1, 2)], Shape(CloseAll(With(T, T + 30 * Min - 1))));
    }

    [Fact]
    public void CloseDue_EventAtStartPlusMaxLength_StartsNewSession()
    {
        // Events every 20 min (under the 30 min gap) from T to T+220 min, then one at exactly T+4 h.
        var chain = Enumerable.Range(0, 12).Select(i => T + i * 20 * Min).ToList();
        var atLimit = CloseAll(With([.. chain, T + 240 * Min]));
        Assert.Equal([(T, T + 220 * Min, 12), (T + 240 * Min, T + 240 * Min, 1)], Shape(atLimit));

        var underLimit = CloseAll(With([.. chain, T + 240 * Min - 1]));
        Assert.Equal([(T, T + 240 * Min - 1, 13)], Shape(underLimit));
    }

    [Fact]
    public void NextCloseDue_IsMinOfEndPlusGapAndStartPlusMaxLength_PlusGrace()
    {
        Assert.Equal(long.MaxValue, new OpenSessions().NextCloseDue(Defaults));
        // One event: min(T + 30 min, T + 240 min) + 5 min = T + 35 min.
        Assert.Equal(T + 35 * Min, With(T).NextCloseDue(Defaults));
        // T, T+10: min(T+40, T+240) + 5 = T + 45 min.
        Assert.Equal(T + 45 * Min, With(T + 10 * Min, T).NextCloseDue(Defaults));
        // Chain T..T+220 (every 20 min): min(T+250, T+240) + 5 = T + 245 min (MaxLength binds).
        Assert.Equal(T + 245 * Min, With(Enumerable.Range(0, 12).Select(i => T + i * 20 * Min).ToArray()).NextCloseDue(Defaults));
        // Two sessions: the first one's due time counts.
        Assert.Equal(T + 35 * Min, With(T, T + 2 * 60 * Min).NextCloseDue(Defaults));
        // Custom options: Gap 10 min, MaxLength 15 min, Grace 0: T, T+9 → min(T+19, T+15) = T + 15 min.
        var o = new SessionOptions { Gap = TimeSpan.FromMinutes(10), MaxLength = TimeSpan.FromMinutes(15), Grace = TimeSpan.Zero }.Validate();
        Assert.Equal(T + 15 * Min, With(T, T + 9 * Min).NextCloseDue(o));
    }

    [Fact]
    public void CloseDue_ClosesOnlyDueSessions_InTimeOrder()
    {
        var s = With(T + 2 * 60 * Min, T, T + 60 * Min);   // three single-event sessions, added out of order
        var closed = new List<ClosedSession>();
        s.CloseDue(T + 35 * Min - 1, Defaults, closed);
        Assert.Empty(closed);
        Assert.Equal(3, s.BufferedEvents);

        s.CloseDue(T + 35 * Min, Defaults, closed);
        Assert.Equal([(T, T, 1)], Shape(closed));
        Assert.Equal(2, s.BufferedEvents);
        Assert.Equal(T + 95 * Min, s.NextCloseDue(Defaults));

        s.CloseDue(T + 155 * Min, Defaults, closed);   // both remaining are due (T+95, T+155)
        Assert.Equal([(T, T, 1), (T + 60 * Min, T + 60 * Min, 1), (T + 120 * Min, T + 120 * Min, 1)], Shape(closed));
        Assert.Equal(0, s.BufferedEvents);
        Assert.Equal(long.MaxValue, s.NextCloseDue(Defaults));
    }

    [Fact]
    public void Add_OutOfOrderEventBridgingTwoSessions_MergesThem()
    {
        var s = With(T, T + 50 * Min);
        Assert.Equal(T + 35 * Min, s.NextCloseDue(Defaults));   // first session alone
        s.Add(new SessionEvent(T + 25 * Min, 0, EventType.Click));
        Assert.Equal(T + 85 * Min, s.NextCloseDue(Defaults));   // merged: end T+50, + 30 + 5
        Assert.Equal([(T, T + 50 * Min, 3)], Shape(CloseAll(s)));
    }

    [Fact]
    public void ClosedSession_Of_CountsTypesAndRevenue()
    {
        var s = new OpenSessions();
        s.Add(new SessionEvent(T, 0, EventType.PageView));
        s.Add(new SessionEvent(T + 3 * Min, 25.5, EventType.Purchase));
        s.Add(new SessionEvent(T + 1 * Min, 0, EventType.AddToCart));
        s.Add(new SessionEvent(T + 2 * Min, 0, EventType.PageView));
        s.Add(new SessionEvent(T + 4 * Min, 4.5, EventType.Purchase));
        s.Add(new SessionEvent(T + 5 * Min, 99, EventType.Click));   // value of a non-purchase is not revenue
        var c = Assert.Single(CloseAll(s));
        Assert.Equal(new ClosedSession(T, T + 5 * Min, 6, 2, 1, 2, 30.0), c);
        Assert.Equal(5 * Min, c.DurationMs);
    }

    // ---------- properties ----------

    private static readonly SessionOptions[] OptionChoices =
    [
        Defaults,
        new SessionOptions { Gap = TimeSpan.FromMinutes(10), MaxLength = TimeSpan.FromMinutes(25), Grace = TimeSpan.FromMinutes(3) },
        new SessionOptions { Gap = TimeSpan.FromMinutes(5), MaxLength = TimeSpan.FromMinutes(5), Grace = TimeSpan.Zero },
        new SessionOptions { Gap = TimeSpan.FromMinutes(10), MaxLength = TimeSpan.FromMinutes(60), Grace = TimeSpan.FromMinutes(30) },
    ];

    private static readonly EventType[] Types = [EventType.PageView, EventType.Click, EventType.AddToCart, EventType.Purchase];

    /// <summary>Sorted event times (as increments that often hit the gap boundaries), typed, with whole-number values.</summary>
    private static Gen<(SessionOptions Options, SessionEvent[] Events, int Seed)> Cases() =>
        from optionIndex in Gen.Choose(0, OptionChoices.Length - 1)
        let o = OptionChoices[optionIndex]
        from deltas in Gen.OneOf(
                Gen.Choose(0, (int)(o.Gap.TotalMilliseconds * 1.5)).Select(x => (long)x),
                Gen.Elements(0L, 1L, (long)o.Gap.TotalMilliseconds - 1, (long)o.Gap.TotalMilliseconds, (long)o.MaxLength.TotalMilliseconds))
            .ListOf().Select(l => l.ToArray())
        from types in Gen.Elements(Types).ArrayOf(deltas.Length + 1)
        from values in Gen.Choose(0, 100).ArrayOf(deltas.Length + 1)
        from seed in Gen.Choose(0, int.MaxValue)
        select (o, Build(deltas, types, values), seed);

    private static SessionEvent[] Build(long[] deltas, EventType[] types, int[] values)
    {
        var events = new SessionEvent[deltas.Length + 1];
        var t = T;
        for (var i = 0; i < events.Length; i++)
        {
            if (i > 0) t += deltas[i - 1];
            events[i] = new SessionEvent(t, values[i], types[i]);
        }
        return events;
    }

    /// <summary>Independent greedy sessionization over sorted timestamps.</summary>
    private static List<(long Start, long End, int Events)> Greedy(IEnumerable<long> timestamps, SessionOptions o)
    {
        var gap = (long)o.Gap.TotalMilliseconds;
        var max = (long)o.MaxLength.TotalMilliseconds;
        var result = new List<(long Start, long End, int Events)>();
        foreach (var t in timestamps.Order())
        {
            if (result.Count > 0)
            {
                var (start, end, n) = result[^1];
                if (t - end < gap && t - start < max) { result[^1] = (start, t, n + 1); continue; }
            }
            result.Add((t, t, 1));
        }
        return result;
    }

    private static List<ClosedSession> FeedAllThenClose(IEnumerable<SessionEvent> events, SessionOptions o)
    {
        var s = new OpenSessions();
        foreach (var e in events) s.Add(e);
        return CloseAll(s, o);
    }

    private static T2[] Shuffled<T2>(T2[] items, int seed)
    {
        var copy = (T2[])items.Clone();
        new Random(seed).Shuffle(copy);
        return copy;
    }

    [Fact]
    public void CloseDue_AnyArrivalPermutation_GivesSameSessionsAsSortedOrder()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var sorted = FeedAllThenClose(c.Events, c.Options);
            var shuffled = FeedAllThenClose(Shuffled(c.Events, c.Seed), c.Options);
            Assert.Equal(sorted, shuffled);
            Assert.Equal(c.Events.Length, sorted.Sum(x => x.Events));
        }));
    }

    [Fact]
    public void CloseDue_AllClosedAtEnd_EqualsGreedyReference()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var expected = Greedy(c.Events.Select(e => e.TimestampMs), c.Options);
            var actual = FeedAllThenClose(Shuffled(c.Events, c.Seed), c.Options);
            Assert.Equal(expected, Shape(actual));
            // Per-session aggregates against a direct count over the events in [start, end].
            foreach (var s in actual)
            {
                var inside = c.Events.Where(e => e.TimestampMs >= s.StartMs && e.TimestampMs <= s.EndMs).ToList();
                Assert.Equal(inside.Count, s.Events);
                Assert.Equal(inside.Count(e => e.Type == EventType.PageView), s.PageViews);
                Assert.Equal(inside.Count(e => e.Type == EventType.AddToCart), s.AddToCarts);
                Assert.Equal(inside.Count(e => e.Type == EventType.Purchase), s.Purchases);
                Assert.Equal(inside.Where(e => e.Type == EventType.Purchase).Sum(e => e.Value), s.Revenue);
            }
        }));
    }

    /// <summary>Like the shard: watermark = max ts seen, late if ts &lt; watermark − Grace, CloseDue(watermark) after each Add.</summary>
    private static (List<ClosedSession> Closed, int Late) Drive(IEnumerable<SessionEvent> arrivals, SessionOptions o)
    {
        var s = new OpenSessions();
        var closed = new List<ClosedSession>();
        var wm = long.MinValue;
        var late = 0;
        foreach (var e in arrivals)
        {
            if (wm != long.MinValue && e.TimestampMs < wm - (long)o.Grace.TotalMilliseconds) { late++; continue; }
            wm = Math.Max(wm, e.TimestampMs);
            s.Add(e);
            s.CloseDue(wm, o, closed);
        }
        s.CloseDue(long.MaxValue, o, closed);
        return (closed, late);
    }

    [Fact]
    public void CloseDue_ShufflingEventsWithinGrace_DoesNotChangeSessions()
    {
        var cases = from c in Cases()
                    from jitterFractions in Gen.Choose(0, 999_999).ArrayOf(c.Events.Length)
                    select (c.Options, c.Events, jitterFractions);
        Check.QuickThrowOnFailure(Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var grace = (long)c.Options.Grace.TotalMilliseconds;
            // Arrival order: sort by ts + jitter with jitter in [0, Grace) (no jitter when Grace is 0).
            var arrivals = c.Events
                .Select((e, i) => (e, key: e.TimestampMs + grace * c.jitterFractions[i] / 1_000_000))
                .OrderBy(x => x.key).Select(x => x.e).ToArray();
            var (inOrder, lateInOrder) = Drive(c.Events, c.Options);
            var (jittered, lateJittered) = Drive(arrivals, c.Options);
            Assert.Equal(0, lateInOrder);
            Assert.Equal(0, lateJittered);   // by construction nothing can be late
            Assert.Equal(inOrder, jittered);
            Assert.Equal(Greedy(c.Events.Select(e => e.TimestampMs), c.Options), Shape(jittered));
        }));
    }

    [Fact]
    public void CloseDue_SessionClosedByWatermark_NeverAbsorbsLaterAcceptableEvents()
    {
        // Once the watermark passes a session's due time, any event with ts ≥ watermark − Grace is too far to join.
        var s = With(T, T + 10 * Min);
        var closed = new List<ClosedSession>();
        var due = s.NextCloseDue(Defaults);   // T + 10 + 30 + 5 min
        Assert.Equal(T + 45 * Min, due);
        s.CloseDue(due, Defaults, closed);
        Assert.Single(closed);
        s.Add(new SessionEvent(due - 5 * Min, 0, EventType.Click));   // the earliest still-acceptable event: exactly Gap after the end
        Assert.Equal([(T + 40 * Min, T + 40 * Min, 1)], Shape(CloseAll(s)));
    }
}
