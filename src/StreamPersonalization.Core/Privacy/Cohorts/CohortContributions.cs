using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Turns a stored user into its contribution to one period's cohort metrics, from the per-UTC-day activity rows that fall in
/// the period. Definitions (the metrics mean exactly this):
/// <list type="bullet">
/// <item>The user takes part iff some day of the period has an event or a session start, and consent is not withdrawn.</item>
/// <item>Session seconds: the user's mean length of the sessions that started in the period (their summed length over their
/// count); 0 when none started in it (e.g. activity after midnight in a session that began the day before, or a session
/// still open at release time).</item>
/// <item>Converted: at least one purchase in the period. Revenue: the sum of purchase values in the period.</item>
/// <item>Cohort: engagement band of the decayed score at the period's end (events that arrived after the end, within the
/// release delay, are included, because the score is kept as one decayed sum); recency band of the whole days of inactivity
/// before the period (last active day d before the period's first day s gives s − d − 1, i.e. days_since_last_session at
/// the period's start; no activity in the kept 30 days gives +∞, the last band); device band of the latest device.</item>
/// </list>
/// </summary>
public static class CohortContributions
{
    /// <summary>The user's contribution to <paramref name="period"/>, or null when the user was not active in it or withdrew consent.</summary>
    public static UserContribution? For(UserEntity user, CohortPeriod period, CohortBands bands, HalfLifeDecay decay)
    {
        if (user.ConsentWithdrawn) return null;
        var engagement = user.Engagement;
        long events = 0, sessions = 0, sessionSeconds = 0, purchases = 0;
        double revenue = 0;
        var lastDayBefore = int.MinValue;
        foreach (ref readonly var d in engagement.Days)
        {
            var active = d.Events > 0 || d.Sessions > 0;
            if (d.Day < period.StartDay) { if (active && d.Day > lastDayBefore) lastDayBefore = d.Day; continue; }
            if (d.Day >= period.EndDay) continue;
            events += d.Events; sessions += d.Sessions; sessionSeconds += d.SessionSeconds; purchases += d.Purchases; revenue += d.Revenue;
        }
        if (events == 0 && sessions == 0) return null;
        var recency = lastDayBefore == int.MinValue ? double.PositiveInfinity : period.StartDay - lastDayBefore - 1;
        var features = new CohortFeatures(engagement.ScoreAt(period.EndMs, decay), recency, engagement.Device);
        return new UserContribution(
            user.Key,
            bands.Classify(features),
            sessions == 0 ? 0 : sessionSeconds / (double)sessions,
            purchases > 0,
            revenue);
    }
}
