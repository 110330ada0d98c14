using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class CohortContributionsTests
{
    private const long DayMs = 86_400_000;
    private static readonly TimeSpan HalfLife = TimeSpan.FromDays(7);
    private static readonly CohortBandOptions BandOptions = new() { EngagementEdges = [2, 10, 30], RecencyEdgesDays = [1, 3], DeviceTypes = ["desktop", "mobile"] };
    private static readonly string?[] Devices = ["desktop", "mobile", "tv", null, "MOBILE"];

    private sealed record Event(long Ms, EventType Type, double Value, string? Device);

    private sealed record Session(long StartMs, long LengthMs);

    [Fact]
    public void For_RandomUsers_MatchesAReferenceComputedFromTheRawEvents()
    {
        // 400 seeded random users with events and sessions spread over 12 days around a 2-day period; each contribution is
        // compared with sums, score Σ w·2^(−(T−t)/h) and bands computed here from the raw lists (not from the day rows).
        var rng = new Random(20261122);
        var bands = new CohortBands(BandOptions);
        var decay = new HalfLifeDecay(HalfLife);
        var period = new CohortPeriod(20780, 2);
        int active = 0, inactive = 0;
        for (var u = 0; u < 400; u++)
        {
            var firstDay = period.StartDay - rng.Next(1, 10);
            var events = Enumerable.Range(0, rng.Next(0, 25)).Select(_ => new Event(
                    (firstDay + rng.Next(0, 12)) * DayMs + rng.Next(0, (int)DayMs),
                    rng.Next(4) switch { 0 => EventType.Purchase, 1 => EventType.Click, _ => EventType.PageView },
                    Math.Round(rng.NextDouble() * 300, 2),
                    Devices[rng.Next(Devices.Length)]))
                .DistinctBy(e => e.Ms).OrderBy(e => e.Ms).ToList();
            var sessions = Enumerable.Range(0, rng.Next(0, 6)).Select(_ => new Session(
                (firstDay + rng.Next(0, 12)) * DayMs + rng.Next(0, (int)DayMs), rng.Next(0, 3 * 3600_000))).ToList();
            var user = Build($"u{u}", events, sessions);

            var actual = CohortContributions.For(user, period, bands, decay);
            var expected = Reference($"u{u}", events, sessions, period);
            if (expected is null) { inactive++; Assert.Null(actual); continue; }
            active++;
            Assert.NotNull(actual);
            var a = actual.Value;
            Assert.Equal(expected.Value.Cohort, a.Cohort);
            Assert.Equal(expected.Value.SessionSeconds, a.SessionSeconds, 9);
            Assert.Equal(expected.Value.Converted, a.Converted);
            Assert.Equal(expected.Value.Revenue, a.Revenue, 6);
            Assert.Equal(user.Key, a.UserKey);
        }
        Assert.True(active > 100 && inactive > 50, $"{active} active, {inactive} inactive: the sample should hold both");
    }

    [Fact]
    public void For_ConsentWithdrawnOrInactiveInThePeriod_ContributesNothing()
    {
        var bands = new CohortBands(BandOptions);
        var decay = new HalfLifeDecay(HalfLife);
        var period = new CohortPeriod(20780, 1);
        var inPeriod = new Event(period.StartMs + 1000, EventType.Purchase, 50, "mobile");
        Assert.NotNull(CohortContributions.For(Build("a", [inPeriod], []), period, bands, decay));
        var withdrawn = Build("b", [inPeriod], []);
        withdrawn.ConsentWithdrawn = true;
        Assert.Null(CohortContributions.For(withdrawn, period, bands, decay));
        Assert.Null(CohortContributions.For(Build("c", [inPeriod with { Ms = period.EndMs }], []), period, bands, decay));        // first instant after
        Assert.Null(CohortContributions.For(Build("d", [inPeriod with { Ms = period.StartMs - 1 }], []), period, bands, decay));   // last instant before
        // A session that started in the period counts the user even without an event on that day.
        Assert.NotNull(CohortContributions.For(Build("e", [inPeriod with { Ms = period.StartMs - 60_000 }], [new(period.StartMs + 5, 60_000)]), period, bands, decay));
    }

    private static UserEntity Build(string key, IReadOnlyList<Event> events, IReadOnlyList<Session> sessions)
    {
        var weights = new EngagementOptions().WeightTable();
        var decay = new HalfLifeDecay(HalfLife);
        var user = new UserEntity(key);
        foreach (var e in events)
            user.Engagement.ApplyEvent(new ClickEvent($"{key}-{e.Ms}", key, e.Type, e.Type.ToString(), e.Ms, Device: e.Device,
                Value: e.Type == EventType.Purchase ? e.Value : null), weights[(int)e.Type], decay);
        foreach (var s in sessions) user.Engagement.ApplySessionStart(s.StartMs, s.LengthMs);
        return user;
    }

    // The definitions of CohortContributions, restated over the raw events.
    private static UserContribution? Reference(string key, IReadOnlyList<Event> events, IReadOnlyList<Session> sessions, CohortPeriod period)
    {
        bool In(long ms) => ms >= period.StartMs && ms < period.EndMs;
        var inEvents = events.Where(e => In(e.Ms)).ToList();
        var inSessions = sessions.Where(s => In(s.StartMs)).ToList();
        if (inEvents.Count == 0 && inSessions.Count == 0) return null;

        var weights = new Dictionary<EventType, double> { [EventType.Purchase] = 10, [EventType.Click] = 1, [EventType.PageView] = 1 };
        var at = Math.Max(period.EndMs, events.Count == 0 ? long.MinValue : events.Max(e => e.Ms));
        var score = events.Sum(e => weights[e.Type] * Math.Pow(2, -(at - e.Ms) / HalfLife.TotalMilliseconds));
        var activeDaysBefore = events.Select(e => e.Ms).Concat(sessions.Select(s => s.StartMs))
            .Where(ms => ms < period.StartMs).Select(ms => (int)(ms / DayMs)).ToList();
        var recency = activeDaysBefore.Count == 0 ? double.PositiveInfinity : period.StartDay - activeDaysBefore.Max() - 1;
        var device = events.LastOrDefault(e => e.Device is not null)?.Device;
        static int Band(double[] edges, double x) => edges.Count(e => x >= e);
        var deviceBand = device?.ToLowerInvariant() switch { "desktop" => 0, "mobile" => 1, _ => 2 };
        var cohort = new CohortKey(Band(BandOptions.EngagementEdges, score), Band(BandOptions.RecencyEdgesDays, recency), deviceBand);

        var purchases = inEvents.Where(e => e.Type == EventType.Purchase).ToList();
        var seconds = inSessions.Sum(s => s.LengthMs / 1000);
        return new UserContribution(key, cohort, inSessions.Count == 0 ? 0 : seconds / (double)inSessions.Count, purchases.Count > 0, purchases.Sum(e => e.Value));
    }
}
