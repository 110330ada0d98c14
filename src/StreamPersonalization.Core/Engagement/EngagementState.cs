using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Engagement;

/// <summary>
/// One user's engagement: a decayed weighted score plus exact per-UTC-day counts for the last
/// <see cref="WindowDays"/> days, from which rolling features are computed at any "now".
/// </summary>
/// <remarks>
/// score(now) = Σ wᵢ · 2^(−(now − tᵢ)/halfLife), kept incrementally as (score at ref, ref) so an
/// out-of-order event adds its own decayed weight instead of being re-based.
/// </remarks>
public sealed class EngagementState
{
    /// <summary>Longest rolling window any feature uses; older days are dropped.</summary>
    public const int WindowDays = 30;
    public const long DayMs = 86_400_000;

    private DayActivity[]? _days;   // sorted by Day, only days with activity
    private int _dayCount;

    public double Score { get; private set; }
    public long ScoreRefMs { get; private set; } = long.MinValue;
    public long LastEventMs { get; private set; } = long.MinValue;
    public long TotalEvents { get; private set; }
    public long TotalPurchases { get; private set; }
    public string? Device { get; private set; }
    public string? Country { get; private set; }
    private long _profileMs = long.MinValue;

    public ReadOnlySpan<DayActivity> Days => _days.AsSpan(0, _dayCount);

    public static int DayOf(long ms) => (int)Math.Floor(ms / (double)DayMs);

    public void ApplyEvent(ClickEvent e, double weight, HalfLifeDecay decay)
    {
        AddScore(e.TimestampMs, weight, decay);
        if (e.TimestampMs > LastEventMs) LastEventMs = e.TimestampMs;
        TotalEvents++;
        if (e.Type == EventType.Purchase) TotalPurchases++;
        if (e.TimestampMs >= _profileMs)
        {
            _profileMs = e.TimestampMs;
            if (e.Device is not null) Device = e.Device;
            if (e.Country is not null) Country = e.Country;
        }
        ref var day = ref DayRef(DayOf(e.TimestampMs));
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref day)) day.Count(e.Type, e.Value ?? 0);
    }

    /// <summary>Counts a closed session on the day it started, with its length (saturating).</summary>
    public void ApplySessionStart(long startMs, long lengthMs = 0)
    {
        ref var day = ref DayRef(DayOf(startMs));
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref day)) return;
        DayActivity.Inc(ref day.Sessions);
        day.SessionSeconds = (uint)Math.Min(uint.MaxValue, day.SessionSeconds + (ulong)Math.Max(0, lengthMs / 1000));
    }

    /// <summary>The decayed score at max(<paramref name="atMs"/>, the latest event applied): what is known of the user's engagement before a new event.</summary>
    public double ScoreAt(long atMs, HalfLifeDecay decay) =>
        ScoreRefMs == long.MinValue ? 0 : Score * decay.Factor(atMs - ScoreRefMs);

    /// <summary>Fills the features as of <paramref name="nowMs"/> (≥ every applied event time).</summary>
    public void Fill(long nowMs, HalfLifeDecay decay, ref UserFeatures f)
    {
        f.EngagementScore = ScoreRefMs == long.MinValue ? 0 : Score * decay.Factor(nowMs - ScoreRefMs);
        var today = DayOf(nowMs);
        double events1 = 0, pv7 = 0, clicks7 = 0, carts7 = 0, purchases30 = 0, revenue30 = 0, sessions7 = 0, sessions30 = 0, custom30 = 0;
        foreach (ref readonly var d in Days)
        {
            var age = today - d.Day;
            if (age < 0 || age >= WindowDays) continue;
            purchases30 += d.Purchases; revenue30 += d.Revenue; sessions30 += d.Sessions; custom30 += d.Custom;
            if (age < 7) { pv7 += d.PageViews; clicks7 += d.Clicks; carts7 += d.AddToCarts; sessions7 += d.Sessions; }
            if (age == 0) events1 += d.Events;
        }
        f.Events1d = events1; f.PageViews7d = pv7; f.Clicks7d = clicks7; f.AddToCarts7d = carts7;
        f.Purchases30d = purchases30; f.Revenue30d = revenue30; f.Sessions7d = sessions7; f.Sessions30d = sessions30;
        f.CustomEvents30d = custom30;
        f.DaysSinceLastSession = LastEventMs == long.MinValue ? 0 : Math.Floor((nowMs - LastEventMs) / (double)DayMs);
        f.TotalEvents = TotalEvents; f.TotalPurchases = TotalPurchases;
        f.Device = Device; f.Country = Country;
    }

    /// <summary>Decays and adds: in-order events re-base the score, out-of-order ones add their decayed weight.</summary>
    private void AddScore(long t, double w, HalfLifeDecay decay)
    {
        if (ScoreRefMs == long.MinValue) { Score = w; ScoreRefMs = t; }
        else if (t >= ScoreRefMs) { Score = Score * decay.Factor(t - ScoreRefMs) + w; ScoreRefMs = t; }
        else Score += w * decay.Factor(ScoreRefMs - t);
    }

    /// <summary>The bucket of a day, created if needed; a null ref if the day is already outside the window.</summary>
    private ref DayActivity DayRef(int day)
    {
        var newest = _dayCount == 0 ? day : Math.Max(day, _days![_dayCount - 1].Day);
        Prune(newest - WindowDays + 1);
        if (day < newest - WindowDays + 1) return ref System.Runtime.CompilerServices.Unsafe.NullRef<DayActivity>();
        var i = _dayCount - 1;
        while (i >= 0 && _days![i].Day > day) i--;
        if (i >= 0 && _days![i].Day == day) return ref _days[i];
        _days ??= new DayActivity[2];
        if (_dayCount == _days.Length) Array.Resize(ref _days, Math.Min(WindowDays, _dayCount * 2));
        Array.Copy(_days, i + 1, _days, i + 2, _dayCount - i - 1);
        _days[i + 1] = new DayActivity { Day = day };
        _dayCount++;
        return ref _days[i + 1];
    }

    private void Prune(int oldestKept)
    {
        var drop = 0;
        while (drop < _dayCount && _days![drop].Day < oldestKept) drop++;
        if (drop == 0) return;
        Array.Copy(_days!, drop, _days!, 0, _dayCount - drop);
        _dayCount -= drop;
    }

    /// <summary>Back to a user with no activity (consent withdrawn).</summary>
    public void Clear() => Restore(0, long.MinValue, long.MinValue, 0, 0, null, null, long.MinValue, []);

    internal void Restore(double score, long scoreRef, long lastEvent, long totalEvents, long totalPurchases,
        string? device, string? country, long profileMs, DayActivity[] days)
    {
        Score = score; ScoreRefMs = scoreRef; LastEventMs = lastEvent; TotalEvents = totalEvents; TotalPurchases = totalPurchases;
        Device = device; Country = country; _profileMs = profileMs;
        _days = days.Length == 0 ? null : days; _dayCount = days.Length;
    }

    internal long ProfileMs => _profileMs;
}
