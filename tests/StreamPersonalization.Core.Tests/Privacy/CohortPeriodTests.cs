using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class CohortPeriodTests
{
    private const long DayMs = 86_400_000;

    private static long Ms(int y, int mo, int d, int h = 0, int mi = 0) => new DateTimeOffset(y, mo, d, h, mi, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void Containing_DailyPeriod_IsTheUtcDay_AndMidnightStartsTheNextOne()
    {
        var p = CohortPeriod.Containing(Ms(2026, 11, 22, 23, 59), 1);
        Assert.Equal("2026-11-22/P1D", p.Id);
        Assert.Equal(Ms(2026, 11, 22), p.StartMs);
        Assert.Equal(Ms(2026, 11, 23), p.EndMs);
        Assert.Equal("2026-11-23/P1D", CohortPeriod.Containing(Ms(2026, 11, 23), 1).Id);
        Assert.Equal("2026-11-22/P1D", CohortPeriod.Containing(Ms(2026, 11, 23) - 1, 1).Id);
        Assert.Equal("1969-12-31/P1D", CohortPeriod.Containing(-1, 1).Id);   // floor, not truncation, before 1970
    }

    [Fact]
    public void LatestDue_IsThePeriodThatEndedAtLeastTheDelayAgo()
    {
        var delay = TimeSpan.FromHours(6);
        Assert.Equal("2026-11-22/P1D", CohortPeriod.LatestDue(Ms(2026, 11, 23, 6), 1, delay).Id);
        Assert.Equal("2026-11-21/P1D", CohortPeriod.LatestDue(Ms(2026, 11, 23, 6) - 1, 1, delay).Id);
        Assert.Equal("2026-11-22/P1D", CohortPeriod.LatestDue(Ms(2026, 11, 23, 23, 59), 1, delay).Id);
    }

    [Fact]
    public void MultiDayPeriodsAndBudgetWindows_TileTheDays_AlignedToTheEpoch()
    {
        // Brute force over 400 days around today: every day lies in exactly one 3-day period and one 7 × 3-day window, both
        // starting on a multiple of their length in days since 1970-01-01, and the window holds the period.
        var today = (int)(Ms(2026, 11, 22) / DayMs);
        for (var day = today - 200; day < today + 200; day++)
        {
            var p = CohortPeriod.Containing(day * DayMs + 12345, 3);
            Assert.True(p.StartDay <= day && day < p.EndDay && p.StartDay % 3 == 0, $"{p} for day {day}");
            var w = p.BudgetWindow(7);
            Assert.True(w.StartDay <= p.StartDay && p.EndDay <= w.EndDay && w.StartDay % 21 == 0 && w.Days == 21, $"{w} for {p}");
            Assert.True(CohortPeriod.TryParse(p.Id, out var parsed) && parsed == p, p.Id);
        }
        var daily = CohortPeriod.Containing(Ms(2026, 11, 22), 1);
        Assert.Equal(daily, daily.BudgetWindow(1));
    }

    [Theory]
    [InlineData("2026-11-22")]
    [InlineData("2026-11-22/P0D")]
    [InlineData("2026-11-22/PT1H")]
    [InlineData("2026-11-22/P2D")]     // day 20779 since 1970-01-01 is odd: no 2-day period starts on it
    [InlineData("2026-13-01/P1D")]
    [InlineData("2026-11-22/P1Dx")]
    [InlineData("")]
    public void TryParse_RejectsMalformedOrUnalignedIds(string id)
    {
        Assert.Equal(20779, Ms(2026, 11, 22) / DayMs);
        Assert.False(CohortPeriod.TryParse(id, out _));
    }

    [Fact]
    public void Options_ScheduleKeys_AreValidatedWithTheirNames()
    {
        Assert.Contains("'Privacy:Cohorts:Period'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { Period = TimeSpan.FromHours(12) }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:Period'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { Period = TimeSpan.FromDays(29) }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:ReleaseDelay'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { ReleaseDelay = TimeSpan.FromMinutes(-1) }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:BudgetPeriods'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { BudgetPeriods = 0 }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:CheckInterval'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { CheckInterval = TimeSpan.Zero }.Validate()).Message);
        Assert.Equal(7, new CohortReleaseOptions { Period = TimeSpan.FromDays(7) }.Validate().PeriodDays);
    }
}
