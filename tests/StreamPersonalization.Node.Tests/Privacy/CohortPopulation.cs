using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Node.Tests.Privacy;

/// <summary>
/// A seeded population of stored users whose cohort for <see cref="Period"/> is fixed by construction (engagement high or
/// low, active the day before or not, device), with the exact clipped per-cohort totals computed here from the generated
/// activity — independently of the releaser's contribution code. Bands: engagement [20], recency [1] day, devices desktop,
/// mobile (+ other): 2 × 2 × 3 = 12 cohorts.
/// </summary>
internal sealed class CohortPopulation
{
    public const long DayMs = 86_400_000;
    public const double MaxSessionSeconds = 1800, MaxRevenue = 500;

    /// <summary>2026-11-20, day 20777 since 1970-01-01 (odd: it is the second day of its 2-day budget window).</summary>
    public static readonly CohortPeriod Period = new(20777, 1);

    public static readonly TimeSpan HalfLife = TimeSpan.FromDays(7);

    public static readonly CohortBandOptions Bands = new() { EngagementEdges = [20], RecencyEdgesDays = [1], DeviceTypes = ["desktop", "mobile"] };

    public static readonly SegmentCatalog Catalog = new(1, []);

    /// <summary>Who is in a group: band indexes (engagement, recency, device) and what makes the group special.</summary>
    public sealed record Group(string Name, int Users, int Engagement, int Recency, string? Device, bool Withdrawn = false, bool ActiveOutsideOnly = false)
    {
        public CohortKey Key => new(Engagement, Recency, Device switch { "desktop" => 0, "mobile" => 1, _ => 2 });
    }

    /// <summary>A, B, C are large; D and E are below the minimum size 50; F withdrew consent; G was active only before and after the period.</summary>
    public static readonly Group[] Groups =
    [
        new("A", 160, 1, 0, "mobile"),
        new("B", 120, 0, 1, "desktop"),
        new("C", 130, 0, 1, "tv"),
        new("D", 5, 1, 1, "desktop"),
        new("E", 12, 0, 0, "mobile"),
        new("F", 100, 1, 1, null, Withdrawn: true),
        new("G", 100, 0, 1, "mobile", ActiveOutsideOnly: true),
    ];

    /// <summary>Exact clipped sums of one cohort (the users that must count).</summary>
    public sealed record Totals(long Users, double SessionSeconds, long Conversions, double Revenue);

    public Dictionary<CohortKey, Totals> Exact { get; } = new();

    public List<UserEntity> Users { get; } = [];

    public CohortPopulation(int seed = 42)
    {
        var rng = new Random(seed);
        var weights = new EngagementOptions().WeightTable();
        var decay = new HalfLifeDecay(HalfLife);
        foreach (var g in Groups)
        {
            for (var i = 0; i < g.Users; i++)
            {
                var user = new UserEntity($"{g.Name}-user-{i}") { ConsentWithdrawn = g.Withdrawn };
                var events = new List<(long Ms, EventType Type, double Value)>();
                var sessions = new List<(long StartMs, long LengthMs)>();
                long At(int day) => (Period.StartDay + day) * DayMs + rng.Next(0, (int)DayMs);
                // Prior activity: the day before (recency band 0) or four days before (band 1); C, F have none.
                if (g.Recency == 0) events.Add((At(-1), EventType.PageView, 0));
                else if (g.Name is not ("C" or "F")) events.Add((At(-4), EventType.PageView, 0));
                if (g.ActiveOutsideOnly)
                {
                    for (var k = 0; k < 5; k++) events.Add((At(1), EventType.Purchase, 100));   // after the period: must not count
                }
                else
                {
                    for (var k = rng.Next(1, 6); k > 0; k--) events.Add((At(0), EventType.PageView, 0));
                    var purchases = g.Engagement == 1 ? 3 : rng.Next(0, 2);                       // 3 × 10 ≥ 20 > 1 × 10 + 5 + 1
                    for (var k = 0; k < purchases; k++) events.Add((At(0), EventType.Purchase, Math.Round(rng.NextDouble() * 400, 2)));
                    for (var k = rng.Next(0, 4); k > 0; k--) sessions.Add((At(0), rng.Next(0, 3000) * 1000L));
                }
                events.Sort((a, b) => a.Ms.CompareTo(b.Ms));
                foreach (var (ms, type, value) in events)
                    user.Engagement.ApplyEvent(new ClickEvent($"{user.Key}-{ms}", user.Key, type, type.ToString(), ms, Device: g.Device,
                        Value: type == EventType.Purchase ? value : null), weights[(int)type], decay);
                foreach (var (start, length) in sessions) user.Engagement.ApplySessionStart(start, length);
                Users.Add(user);
                if (g.Withdrawn || g.ActiveOutsideOnly) continue;

                // The premise of the group's engagement band, checked with score = Σ w·2^(−(end − t)/h).
                var score = events.Sum(e => weights[(int)e.Type] * Math.Pow(2, -(Period.EndMs - e.Ms) / HalfLife.TotalMilliseconds));
                Assert.True(g.Engagement == 1 ? score >= 20 : score < 20, $"{user.Key}: score {score}");
                var inPeriod = events.Where(e => e.Ms >= Period.StartMs && e.Ms < Period.EndMs).ToList();
                var meanSession = sessions.Count == 0 ? 0 : sessions.Sum(s => s.LengthMs / 1000) / (double)sessions.Count;
                var revenue = inPeriod.Where(e => e.Type == EventType.Purchase).Sum(e => e.Value);
                var converted = inPeriod.Any(e => e.Type == EventType.Purchase);
                var t = Exact.GetValueOrDefault(g.Key, new Totals(0, 0, 0, 0));
                Exact[g.Key] = new Totals(t.Users + 1, t.SessionSeconds + Math.Min(meanSession, MaxSessionSeconds),
                    t.Conversions + (converted ? 1 : 0), t.Revenue + Math.Min(revenue, MaxRevenue));
            }
        }
    }

    /// <summary>Writes every user into the store's <c>users</c> scope over four partitions, with watermark <paramref name="watermarkMs"/>.</summary>
    public async Task WriteAsync(ICheckpointStore store, long watermarkMs)
    {
        foreach (var partition in Users.Select((u, i) => (u, i)).GroupBy(x => x.i % 4, x => x.u))
            await store.CommitAsync(new CheckpointBatch("users", partition.Key, null, partition.Count(), watermarkMs, null,
                partition.Select(u => new EntityWrite(u.Key, UserStateSerializer.Serialize(u, Catalog), null)).ToList()));
    }
}
