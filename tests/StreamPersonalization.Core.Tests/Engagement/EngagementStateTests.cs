using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Tests.Engagement;

public sealed class EngagementStateTests
{
    private const long DayMs = 86_400_000;
    private const long HourMs = 3_600_000;
    // Day D = 2026-03-01 (20,513 days after 1970-01-01); its midnight in Unix ms.
    private static readonly long D0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly EngagementOptions Options = new EngagementOptions().Validate();
    private static readonly double[] Weights = Options.WeightTable();
    private static readonly HalfLifeDecay Decay = new(Options.HalfLife);

    private static ClickEvent Ev(long ts, EventType type, double? value = null, string? device = null, string? country = null, string? typeName = null) =>
        new($"e{ts}", "u1", type, typeName ?? type.WireName(), ts, Device: device, Country: country, Value: value);

    private static void Apply(EngagementState s, ClickEvent e) => s.ApplyEvent(e, Weights[(int)e.Type], Decay);

    private static UserFeatures Fill(EngagementState s, long now)
    {
        var f = default(UserFeatures);
        s.Fill(now, Decay, ref f);
        return f;
    }

    /// <summary>Midday of the day <paramref name="daysBefore"/> days before D.</summary>
    private static long Noon(int daysBefore) => D0 - daysBefore * DayMs + 12 * HourMs;

    [Fact]
    public void WeightTable_MapsDefaultWeightsByType()
    {
        // Defaults: page_view 1, click 1, scroll 0.5, add_to_cart 3, purchase 10, video_play 2, form_submit 2, custom 1.
        Assert.Equal(EventTypes.Count, Weights.Length);
        Assert.Equal(1, Weights[(int)EventType.PageView]);
        Assert.Equal(0.5, Weights[(int)EventType.Scroll]);
        Assert.Equal(3, Weights[(int)EventType.AddToCart]);
        Assert.Equal(10, Weights[(int)EventType.Purchase]);
        Assert.Equal(2, Weights[(int)EventType.FormSubmit]);
        Assert.Equal(1, Weights[(int)EventType.Custom]);
        Assert.Equal(0, Weights[(int)EventType.Exposure]);   // missing types weigh 0
        Assert.Equal(0, Weights[(int)EventType.Forget]);

        var custom = new EngagementOptions { Weights = new Dictionary<string, double> { ["purchase"] = 5, ["custom"] = -2 } }.Validate().WeightTable();
        Assert.Equal(5, custom[(int)EventType.Purchase]);
        Assert.Equal(-2, custom[(int)EventType.Custom]);
        Assert.Equal(0, custom[(int)EventType.PageView]);
    }

    [Theory]
    [InlineData("wishlist_add")]
    [InlineData("Purchase")]
    public void Validate_UnknownTypeName_IsRejectedNamingTheKey(string name)
    {
        var o = new EngagementOptions { Weights = new Dictionary<string, double> { ["click"] = 1, [name] = 1 } };
        var ex = Assert.Throws<ArgumentException>(() => o.Validate());
        Assert.Equal($"Engagement:Weights:{name}", ex.ParamName);
        Assert.Contains($"'Engagement:Weights:{name}'", ex.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(1000.5)]
    public void Validate_NonFiniteOrHugeWeight_IsRejectedNamingTheKey(double weight)
    {
        var o = new EngagementOptions { Weights = new Dictionary<string, double> { ["purchase"] = weight } };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => o.Validate());
        Assert.Equal("Engagement:Weights:purchase", ex.ParamName);
        Assert.Contains("'Engagement:Weights:purchase'", ex.Message);
    }

    [Fact]
    public void Validate_HalfLifeOutOfRange_NamesTheKey()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new EngagementOptions { HalfLife = TimeSpan.FromSeconds(59) }.Validate());
        Assert.Equal("Engagement:HalfLife", ex.ParamName);
        new EngagementOptions { HalfLife = TimeSpan.FromMinutes(1), Weights = new Dictionary<string, double> { ["custom"] = 1000, ["click"] = -1000 } }.Validate();
    }

    [Fact]
    public void Score_KnownEvents_EqualsDecayedWeightedSum()
    {
        // Half-life 7 days. purchase (10) at D-14, add_to_cart (3) at D-7, page_view (1) at D, now = D:
        // 10·2^-2 + 3·2^-1 + 1·2^0 = 2.5 + 1.5 + 1 = 5.
        var s = new EngagementState();
        Apply(s, Ev(Noon(14), EventType.Purchase, 20));
        Apply(s, Ev(Noon(7), EventType.AddToCart));
        Apply(s, Ev(Noon(0), EventType.PageView));
        Assert.Equal(5.0, Fill(s, Noon(0)).EngagementScore, 1e-12);
        // A week later everything halves: 2.5.
        Assert.Equal(2.5, Fill(s, Noon(-7)).EngagementScore, 1e-12);
        Assert.Equal(0, Fill(new EngagementState(), Noon(0)).EngagementScore);
    }

    [Fact]
    public void Score_InOrderAndOutOfOrderArrival_AgreeWithReferenceSum()
    {
        var types = new[] { EventType.PageView, EventType.Click, EventType.Scroll, EventType.AddToCart, EventType.Purchase, EventType.Exposure, EventType.Custom };
        var cases = from n in Gen.Choose(1, 40)
                    from offsets in Gen.Choose(0, (int)(60 * DayMs / 1000)).ArrayOf(n)   // seconds within 60 days
                    from typeIdx in Gen.Choose(0, types.Length - 1).ArrayOf(n)
                    from seed in Gen.Choose(0, int.MaxValue)
                    from extraSeconds in Gen.Choose(0, 10 * 86_400)
                    select (offsets, typeIdx, seed, extraSeconds);
        Check.QuickThrowOnFailure(Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var events = c.offsets.Select((o, i) => Ev(D0 + o * 1000L, types[c.typeIdx[i]])).ToArray();
            var now = events.Max(e => e.TimestampMs) + c.extraSeconds * 1000L;
            var halfLifeMs = 7 * DayMs;
            double expected = 0;
            foreach (var e in events) expected += Weights[(int)e.Type] * Math.Pow(2, -(double)(now - e.TimestampMs) / halfLifeMs);

            var sorted = new EngagementState();
            foreach (var e in events.OrderBy(e => e.TimestampMs)) Apply(sorted, e);
            var shuffled = new EngagementState();
            var order = (ClickEvent[])events.Clone();
            new Random(c.seed).Shuffle(order);
            foreach (var e in order) Apply(shuffled, e);

            foreach (var (name, state) in new[] { ("sorted", sorted), ("shuffled", shuffled) })
            {
                var actual = Fill(state, now).EngagementScore;
                if (Math.Abs(actual - expected) > 1e-9 * Math.Abs(expected) + 1e-12)
                    throw new Exception($"{name}: score {actual}, expected {expected}");
            }
            Assert.Equal(events.Length, shuffled.TotalEvents);
            Assert.Equal(events.Max(e => e.TimestampMs), shuffled.LastEventMs);
        }));
    }

    [Fact]
    public void Purchases30d_CountsDays0To29Back_DropsDay30()
    {
        // Fill's window: the day-30 bucket is still held (newest event is day 29 back) but not counted.
        var s = new EngagementState();
        Apply(s, Ev(Noon(30), EventType.Purchase, 100));
        Apply(s, Ev(Noon(29), EventType.Purchase, 7));
        var f = Fill(s, D0 + 23 * HourMs);
        Assert.Equal(1, f.Purchases30d);
        Assert.Equal(7, f.Revenue30d);
        Assert.Equal(2, f.TotalPurchases);

        // With purchases on days 30, 29, 15 and 0 back and now late on day 0: 3 purchases, revenue 7 + 5 + 1.
        Apply(s, Ev(Noon(15), EventType.Purchase, 5));
        Apply(s, Ev(Noon(0), EventType.Purchase, 1));
        f = Fill(s, D0 + DayMs - 1);
        Assert.Equal(3, f.Purchases30d);
        Assert.Equal(13, f.Revenue30d);
        // The next day, day 29 back becomes day 30 back.
        f = Fill(s, D0 + DayMs);
        Assert.Equal(2, f.Purchases30d);
        Assert.Equal(6, f.Revenue30d);
    }

    [Fact]
    public void PageViews7d_CountsDays0To6Back_DropsDay7()
    {
        var s = new EngagementState();
        foreach (var daysBack in new[] { 8, 7, 6, 3, 0 })
        {
            Apply(s, Ev(Noon(daysBack), EventType.PageView));
            Apply(s, Ev(Noon(daysBack) + 1, EventType.Click));
            Apply(s, Ev(Noon(daysBack) + 2, EventType.AddToCart));
        }
        Apply(s, Ev(Noon(0) + 3, EventType.Custom, typeName: "wishlist_add"));
        var f = Fill(s, D0 + 20 * HourMs);
        Assert.Equal(3, f.PageViews7d);      // days 6, 3, 0
        Assert.Equal(3, f.Clicks7d);
        Assert.Equal(3, f.AddToCarts7d);
        Assert.Equal(4, f.Events1d);         // day 0: page view, click, cart, custom
        Assert.Equal(1, f.CustomEvents30d);
        Assert.Equal(16, f.TotalEvents);
        Assert.Equal(0, f.Purchases30d);
    }

    [Fact]
    public void Sessions_FromApplySessionStart_CountIn7dAnd30dWindows()
    {
        var s = new EngagementState();
        Apply(s, Ev(Noon(0), EventType.PageView));   // newest day = D
        foreach (var daysBack in new[] { 30, 29, 7, 6, 6, 0 }) s.ApplySessionStart(Noon(daysBack));
        var f = Fill(s, Noon(0));
        Assert.Equal(3, f.Sessions7d);    // 6, 6, 0
        Assert.Equal(5, f.Sessions30d);   // 29, 7, 6, 6, 0 (day 30 is outside the window and not even kept)
        Assert.DoesNotContain(s.Days.ToArray(), d => d.Day == EngagementState.DayOf(Noon(30)));
    }

    [Fact]
    public void ApplyEvent_OlderThan30DaysBeforeNewest_IsNotCountedInDays()
    {
        var s = new EngagementState();
        Apply(s, Ev(Noon(0), EventType.Purchase, 10));
        Apply(s, Ev(Noon(30), EventType.Purchase, 1000));   // out of order, 30 days before the newest: ignored by day counters
        Apply(s, Ev(Noon(29), EventType.Purchase, 3));      // 29 days before: kept
        var days = s.Days.ToArray().Select(d => (d.Day, (int)d.Purchases, d.Revenue)).ToList();
        var dayD = (int)(D0 / DayMs);
        Assert.Equal([(dayD - 29, 1, 3.0), (dayD, 1, 10.0)], days);
        Assert.Equal(3, s.TotalPurchases);   // totals still count every accepted event
        Assert.Equal(13, Fill(s, Noon(0)).Revenue30d);
    }

    [Fact]
    public void ApplyEvent_NewerEvent_PrunesBucketsOutsideWindow()
    {
        var s = new EngagementState();
        for (var back = 45; back >= 0; back -= 3) Apply(s, Ev(Noon(back), EventType.PageView));
        var dayD = (int)(D0 / DayMs);
        // Kept: days with activity within D-29..D, i.e. 27, 24, ..., 0 back.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => dayD - 27 + 3 * i), s.Days.ToArray().Select(d => d.Day));
        Assert.Equal(16, s.TotalEvents);
    }

    [Fact]
    public void DaysSinceLastSession_IsFloorOfWholeDays()
    {
        var s = new EngagementState();
        Assert.Equal(0, Fill(s, Noon(0)).DaysSinceLastSession);
        var last = Noon(3);
        Apply(s, Ev(last - DayMs, EventType.Click));
        Apply(s, Ev(last, EventType.Click));
        Assert.Equal(0, Fill(s, last).DaysSinceLastSession);
        Assert.Equal(0, Fill(s, last + DayMs - 1).DaysSinceLastSession);
        Assert.Equal(1, Fill(s, last + DayMs).DaysSinceLastSession);
        Assert.Equal(2, Fill(s, last + 3 * DayMs - 1).DaysSinceLastSession);
        Assert.Equal(3, Fill(s, last + 3 * DayMs).DaysSinceLastSession);
    }

    [Fact]
    public void DeviceAndCountry_ComeFromLatestEvent()
    {
        var s = new EngagementState();
        Apply(s, Ev(Noon(2), EventType.Click, device: "mobile", country: "DE"));
        Apply(s, Ev(Noon(1), EventType.Click, device: "desktop"));                   // latest; no country: DE stays
        Assert.Equal(("desktop", "DE"), (s.Device, s.Country));
        Apply(s, Ev(Noon(3), EventType.Click, device: "tablet", country: "FR"));     // older, out of order: ignored
        Assert.Equal(("desktop", "DE"), (s.Device, s.Country));
        Apply(s, Ev(Noon(1), EventType.Click, device: "tv", country: "AT"));          // same time as the latest: later arrival wins
        Assert.Equal(("tv", "AT"), (s.Device, s.Country));
        Apply(s, Ev(Noon(0), EventType.Click, country: "CH"));
        var f = Fill(s, Noon(0));
        Assert.Equal("tv", f.Device);
        Assert.Equal("CH", f.Country);
    }

    [Fact]
    public void DayActivity_Counters_SaturateAt65535()
    {
        var d = new DayActivity { Day = 1 };
        for (var i = 0; i < 70_000; i++) d.Count(EventType.PageView, 0);
        Assert.Equal(ushort.MaxValue, d.Events);
        Assert.Equal(ushort.MaxValue, d.PageViews);
        Assert.Equal(0, d.Clicks);
        d.Count(EventType.Purchase, 2.5);
        d.Count(EventType.Purchase, 1.5);
        Assert.Equal(ushort.MaxValue, d.Events);
        Assert.Equal(2, d.Purchases);
        Assert.Equal(4.0, d.Revenue);

        ushort c = 65_534;
        DayActivity.Inc(ref c);
        Assert.Equal(65_535, c);
        DayActivity.Inc(ref c);
        Assert.Equal(65_535, c);
    }

    [Fact]
    public void DayActivity_Count_IncrementsMatchingCounter()
    {
        var d = new DayActivity();
        d.Count(EventType.Click, 0); d.Count(EventType.AddToCart, 9); d.Count(EventType.Custom, 0); d.Count(EventType.Scroll, 0);
        Assert.Equal((4, 0, 1, 1, 0, 1, 0.0), ((int)d.Events, (int)d.PageViews, (int)d.Clicks, (int)d.AddToCarts, (int)d.Purchases, (int)d.Custom, d.Revenue));
    }
}
