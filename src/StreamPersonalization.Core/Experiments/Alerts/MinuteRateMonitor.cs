using System.Globalization;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Detectors;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>Exposures and conversions an arm received in one event-time minute (minutes since the Unix epoch).</summary>
public sealed record MinuteCount(long Minute, long Exposures, long Conversions)
{
    /// <summary>Conversions per exposure in the minute (NaN without exposures).</summary>
    public double Rate => Exposures > 0 ? (double)Conversions / Exposures : double.NaN;
}

/// <summary>What the charts said about one arm's final minute: the rate, the baseline and both charts' statistics and limits.</summary>
public sealed record AnomalyReading(
    long Minute, double Rate, long Exposures, double BaselineMean, double BaselineStdDev,
    double EwmaDeviation, double EwmaLimit, bool EwmaAlarm, double CusumStatistic, double CusumLimit, bool CusumAlarm)
{
    /// <summary>Either chart alarmed.</summary>
    public bool Alarm => EwmaAlarm || CusumAlarm;
}

/// <summary>
/// Per-arm per-minute conversion rates fed to an EWMA and a CUSUM chart. Deltas carry no per-event times, so a delta's
/// counts are assigned to the event-time minute of its source shard's watermark at the end of its range, and a minute is
/// final once a delta with a later minute has been applied (from any partition). This is an approximation: a delta spans
/// the events of one checkpoint, and when partitions lag each other a lagging partition's delta may name a minute that is
/// already final; its counts then go to the open (latest) minute. Which minute gets which counts therefore depends on how
/// partitions interleave, like the mSPRT looks; the arm totals do not. Rates are conversions per exposure within the minute
/// (flows, not a cohort rate); minutes with fewer than the minimum exposures are kept in the series but not charted.
/// Deltas without a watermark (format 1) are not charted. Owned by the experiment entity's thread.
/// </summary>
public sealed class MinuteRateMonitor
{
    private sealed class Arm(Ewma ewma, Cusum cusum)
    {
        public long OpenExposures, OpenConversions;
        public readonly Queue<MinuteCount> Final = new();
        public Ewma Ewma = ewma;
        public Cusum Cusum = cusum;
        public AnomalyReading? Latest, Pending;
    }

    private readonly SortedDictionary<string, Arm> arms = new(StringComparer.Ordinal);
    private readonly double lambda, limit, k, h;
    private readonly int warmUp, minimumExposures, seriesMinutes;

    /// <summary>A monitor with the chart and series settings of <paramref name="o"/> (fixed for its lifetime).</summary>
    public MinuteRateMonitor(DetectorOptions o)
        : this(o.EwmaLambda, o.EwmaLimit, o.CusumK, o.CusumH, o.AnomalyWarmUpMinutes, o.MinimumExposuresPerMinute, o.SeriesMinutes) { }

    private MinuteRateMonitor(double lambda, double limit, double k, double h, int warmUp, int minimumExposures, int seriesMinutes)
    {
        (this.lambda, this.limit, this.k, this.h) = (lambda, limit, k, h);
        (this.warmUp, this.minimumExposures, this.seriesMinutes) = (warmUp, minimumExposures, seriesMinutes);
    }

    /// <summary>The minute that is still collecting counts (null before the first delta with a watermark).</summary>
    public long? OpenMinute { get; private set; }

    /// <summary>Final minutes of an arm, oldest first, at most the configured number.</summary>
    public IReadOnlyList<MinuteCount> Series(string variantId) => arms.TryGetValue(variantId, out var a) ? a.Final.ToList() : [];

    /// <summary>The chart reading of the arm's last charted minute, if any.</summary>
    public AnomalyReading? Latest(string variantId) => arms.TryGetValue(variantId, out var a) ? a.Latest : null;

    /// <summary>Adds an applied delta's counts to the minute of <paramref name="watermarkMs"/>, first closing the open minute if that one is later.</summary>
    public void Add(long? watermarkMs, IReadOnlyList<ArmDelta> deltas)
    {
        if (watermarkMs is not { } wm) return;
        var minute = (long)Math.Floor(wm / 60_000.0);
        if (OpenMinute is { } open && minute > open) Close(open);
        if (OpenMinute is null || minute > OpenMinute) OpenMinute = minute;
        foreach (var d in deltas)
        {
            var arm = ArmOf(d.VariantId);
            arm.OpenExposures += d.Users;
            arm.OpenConversions += d.Conversions;
        }
    }

    private Arm ArmOf(string variantId)
    {
        if (!arms.TryGetValue(variantId, out var a))
            arms[variantId] = a = new Arm(Ewma.Create(lambda, limit, warmUp), Cusum.Create(k, h, warmUp));
        return a;
    }

    private void Close(long minute)
    {
        foreach (var a in arms.Values)
        {
            if (a.OpenExposures == 0 && a.OpenConversions == 0) continue;
            var count = new MinuteCount(minute, a.OpenExposures, a.OpenConversions);
            a.Final.Enqueue(count);
            while (a.Final.Count > seriesMinutes) a.Final.Dequeue();
            a.OpenExposures = a.OpenConversions = 0;
            if (count.Exposures >= minimumExposures) Chart(a, count);
        }
    }

    private static void Chart(Arm a, MinuteCount m)
    {
        var rate = m.Rate;
        var monitoring = a.Cusum.Monitoring;
        var (upper, lower) = monitoring ? a.Cusum.Sums(rate) : (0, 0);
        (a.Ewma, var ewmaAlarm) = a.Ewma.Update(rate);
        (a.Cusum, var cusumAlarm) = a.Cusum.Update(rate);
        if (!monitoring) return;
        var reading = new AnomalyReading(m.Minute, rate, m.Exposures, a.Ewma.BaselineMean, a.Ewma.BaselineStdDev,
            a.Ewma.Deviation, a.Ewma.Limit, ewmaAlarm, Math.Max(upper, lower), a.Cusum.H, cusumAlarm);
        a.Latest = reading;
        // Keep the latest alarming minute since the last evaluation, remembering every chart that alarmed meanwhile.
        if (reading.Alarm)
            a.Pending = a.Pending is null ? reading
                : reading with { EwmaAlarm = reading.EwmaAlarm || a.Pending.EwmaAlarm, CusumAlarm = reading.CusumAlarm || a.Pending.CusumAlarm };
    }

    /// <summary>
    /// One finding per arm whose charts alarmed since the last call, or whose last charted minute is out of control
    /// (so a finding lasts until a newer in-control minute, however often evaluations happen). Warning when one chart
    /// alarmed, critical when both did. Clears the alarms remembered since the last call.
    /// </summary>
    public List<AlertFinding> TakeFindings()
    {
        var findings = new List<AlertFinding>();
        foreach (var (variant, a) in arms)
        {
            var r = a.Pending ?? (a.Latest is { Alarm: true } latest ? latest : null);
            a.Pending = null;
            if (r is null) continue;
            var charts = r.EwmaAlarm && r.CusumAlarm ? "EWMA and CUSUM" : r.EwmaAlarm ? "EWMA" : "CUSUM";
            var message = string.Create(CultureInfo.InvariantCulture,
                $"arm {variant}: conversion rate {r.Rate:P2} over {r.Exposures} exposures in minute {AlertNames.Time(r.Minute * 60_000)} vs baseline {r.BaselineMean:P2} (σ {r.BaselineStdDev:P2}); {charts} out of control");
            findings.Add(new(AlertDetectors.MetricAnomaly, variant, r.EwmaAlarm && r.CusumAlarm ? AlertSeverity.Critical : AlertSeverity.Warning, message,
            [
                new("minute", r.Minute), new("rate", r.Rate), new("exposures", r.Exposures), new("baseline", r.BaselineMean),
                new("baseline_sd", r.BaselineStdDev), new("ewma_statistic", r.EwmaDeviation), new("ewma_limit", r.EwmaLimit),
                new("cusum_statistic", r.CusumStatistic), new("cusum_limit", r.CusumLimit),
            ]));
        }
        return findings;
    }

    /// <summary>Writes the settings, the open minute and every arm (part of the experiment state's format 2).</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(lambda); w.Write(limit); w.Write(k); w.Write(h); w.Write(warmUp); w.Write(minimumExposures); w.Write(seriesMinutes);
        w.Write(OpenMinute.HasValue); w.Write(OpenMinute ?? 0);
        w.Write(arms.Count);
        foreach (var (variant, a) in arms)
        {
            w.Write(variant); w.Write(a.OpenExposures); w.Write(a.OpenConversions);
            w.Write(a.Final.Count);
            foreach (var m in a.Final) { w.Write(m.Minute); w.Write(m.Exposures); w.Write(m.Conversions); }
            var e = a.Ewma;
            w.Write(e.Count); w.Write(e.BaselineMean); w.Write(e.BaselineM2); w.Write(e.Smoothed);
            var c = a.Cusum;
            w.Write(c.Count); w.Write(c.BaselineMean); w.Write(c.BaselineM2); w.Write(c.Upper); w.Write(c.Lower);
            WriteReading(w, a.Latest);
            WriteReading(w, a.Pending);
        }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    public static MinuteRateMonitor ReadFrom(BinaryReader r)
    {
        var m = new MinuteRateMonitor(r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
        var (hasOpen, open) = (r.ReadBoolean(), r.ReadInt64());
        m.OpenMinute = hasOpen ? open : null;
        for (int i = 0, n = r.ReadInt32(); i < n; i++)
        {
            var a = m.ArmOf(r.ReadString());
            a.OpenExposures = r.ReadInt64();
            a.OpenConversions = r.ReadInt64();
            for (int j = 0, f = r.ReadInt32(); j < f; j++) a.Final.Enqueue(new(r.ReadInt64(), r.ReadInt64(), r.ReadInt64()));
            a.Ewma = a.Ewma with { Count = r.ReadInt64(), BaselineMean = r.ReadDouble(), BaselineM2 = r.ReadDouble(), Smoothed = r.ReadDouble() };
            a.Cusum = a.Cusum with { Count = r.ReadInt64(), BaselineMean = r.ReadDouble(), BaselineM2 = r.ReadDouble(), Upper = r.ReadDouble(), Lower = r.ReadDouble() };
            a.Latest = ReadReading(r);
            a.Pending = ReadReading(r);
        }
        return m;
    }

    private static void WriteReading(BinaryWriter w, AnomalyReading? x)
    {
        w.Write(x is not null);
        if (x is null) return;
        w.Write(x.Minute); w.Write(x.Rate); w.Write(x.Exposures); w.Write(x.BaselineMean); w.Write(x.BaselineStdDev);
        w.Write(x.EwmaDeviation); w.Write(x.EwmaLimit); w.Write(x.EwmaAlarm); w.Write(x.CusumStatistic); w.Write(x.CusumLimit); w.Write(x.CusumAlarm);
    }

    private static AnomalyReading? ReadReading(BinaryReader r) => !r.ReadBoolean() ? null
        : new(r.ReadInt64(), r.ReadDouble(), r.ReadInt64(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadBoolean(),
            r.ReadDouble(), r.ReadDouble(), r.ReadBoolean());
}
