using System.Globalization;
using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// A release period: <see cref="Days"/> whole UTC days from <see cref="StartDay"/> (days since 1970-01-01), aligned so that
/// StartDay is a multiple of Days. Its <see cref="Id"/> is the ISO-8601 interval "start/duration", e.g. "2026-11-22/P1D": the
/// key of the period's release row and the accountant key when every period has its own budget.
/// </summary>
public readonly record struct CohortPeriod
{
    public CohortPeriod(int startDay, int days)
    {
        if (days < 1) throw new ArgumentOutOfRangeException(nameof(days), days, "a period lasts at least one day");
        if (startDay % days != 0) throw new ArgumentException($"start day {startDay} is not aligned to {days}-day periods", nameof(startDay));
        StartDay = startDay;
        Days = days;
    }

    /// <summary>First day of the period (days since 1970-01-01 UTC).</summary>
    public int StartDay { get; }

    /// <summary>Length in days.</summary>
    public int Days { get; }

    /// <summary>Day after the last day of the period (exclusive end).</summary>
    public int EndDay => StartDay + Days;

    public long StartMs => StartDay * EngagementState.DayMs;

    public long EndMs => EndDay * EngagementState.DayMs;

    /// <summary>"yyyy-MM-dd/P{Days}D".</summary>
    public string Id => string.Create(CultureInfo.InvariantCulture, $"{DateOnly.FromDayNumber(EpochDayNumber + StartDay):yyyy-MM-dd}/P{Days}D");

    public CohortPeriod Previous => new(StartDay - Days, Days);

    /// <summary>The <paramref name="days"/>-day period holding the instant <paramref name="ms"/> (Unix ms, UTC).</summary>
    public static CohortPeriod Containing(long ms, int days)
    {
        var day = (int)Math.Floor(ms / (double)EngagementState.DayMs);
        return new(day - Mod(day, days), days);
    }

    /// <summary>
    /// The latest period whose end is at least <paramref name="delay"/> before <paramref name="nowMs"/>: the one to release now.
    /// </summary>
    public static CohortPeriod LatestDue(long nowMs, int days, TimeSpan delay) =>
        Containing(nowMs - (long)delay.TotalMilliseconds, days).Previous;

    /// <summary>
    /// The budget window holding this period: <paramref name="periods"/> consecutive periods, aligned like periods are. With
    /// <paramref name="periods"/> = 1 it is this period.
    /// </summary>
    public CohortPeriod BudgetWindow(int periods) => Containing(StartMs, Days * periods);

    /// <summary>Parses an <see cref="Id"/>; false for anything else.</summary>
    public static bool TryParse(string? id, out CohortPeriod period)
    {
        period = default;
        if (id is null) return false;
        var slash = id.IndexOf('/');
        if (slash < 0 || id.Length < slash + 4 || id[slash + 1] != 'P' || id[^1] != 'D') return false;
        if (!DateOnly.TryParseExact(id.AsSpan(0, slash), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)) return false;
        if (!int.TryParse(id.AsSpan(slash + 2, id.Length - slash - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var days) || days < 1) return false;
        var startDay = start.DayNumber - EpochDayNumber;
        if (Mod(startDay, days) != 0) return false;
        period = new CohortPeriod(startDay, days);
        return true;
    }

    private static readonly int EpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    public override string ToString() => $"CohortPeriod({Id})";
}
