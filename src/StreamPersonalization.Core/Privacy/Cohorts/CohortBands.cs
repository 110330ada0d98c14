using System.Globalization;
using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>A cohort as band indexes; <see cref="CohortBands.Name"/> gives its stable text name.</summary>
public readonly record struct CohortKey(int Engagement, int Recency, int Device);

/// <summary>The non-identifying features a cohort is derived from (no ids, no free text).</summary>
public readonly record struct CohortFeatures(double EngagementScore, double DaysSinceLastSession, string? Device)
{
    /// <summary>Takes engagement_score, days_since_last_session and device from the rule features.</summary>
    public static CohortFeatures From(in UserFeatures f) => new(f.EngagementScore, f.DaysSinceLastSession, f.Device);
}

/// <summary>
/// Maps <see cref="CohortFeatures"/> to a <see cref="CohortKey"/> (engagement band × recency band × device type)
/// and enumerates every possible cohort. The candidate set is fixed by configuration, never by the data: a cohort
/// that appears only because someone is in it would itself leak that someone is.
/// </summary>
public sealed class CohortBands
{
    /// <summary>Device band for devices not listed in <see cref="CohortBandOptions.DeviceTypes"/>.</summary>
    public const string OtherDevice = "other";

    private readonly double[] _engagement;
    private readonly double[] _recency;
    private readonly string[] _devices;
    private readonly string[] _names;

    public CohortBands(CohortBandOptions options)
    {
        options.Validate();
        Options = options;
        _engagement = options.EngagementEdges.ToArray();
        _recency = options.RecencyEdgesDays.ToArray();
        _devices = options.DeviceTypes.Select(d => d.ToLowerInvariant()).Append(OtherDevice).ToArray();
        var all = new List<CohortKey>();
        for (var e = 0; e <= _engagement.Length; e++)
            for (var r = 0; r <= _recency.Length; r++)
                for (var d = 0; d < _devices.Length; d++)
                    all.Add(new CohortKey(e, r, d));
        All = all;
        _names = all.Select(BuildName).ToArray();
    }

    public CohortBandOptions Options { get; }

    /// <summary>Every cohort, in index order (engagement, then recency, then device).</summary>
    public IReadOnlyList<CohortKey> All { get; }

    public int Count => All.Count;

    /// <summary>Position of <paramref name="key"/> in <see cref="All"/>.</summary>
    public int IndexOf(CohortKey key) => (key.Engagement * (_recency.Length + 1) + key.Recency) * _devices.Length + key.Device;

    /// <summary>Band of each feature; NaN engagement counts as 0, a missing or non-finite recency as the last band.</summary>
    public CohortKey Classify(in CohortFeatures features)
    {
        var engagement = double.IsNaN(features.EngagementScore) ? 0 : features.EngagementScore;
        var recency = double.IsFinite(features.DaysSinceLastSession) ? features.DaysSinceLastSession : double.PositiveInfinity;
        return new CohortKey(Band(_engagement, engagement), Band(_recency, recency), DeviceIndex(features.Device));
    }

    /// <summary>Stable name used in releases and as the accounting key, e.g. "eng=[5,20)|rec=[1,7)d|dev=mobile".</summary>
    public string Name(CohortKey key) => _names[IndexOf(key)];

    // Number of edges ≤ x: the index of the half-open band [e_i, e_{i+1}) holding x.
    private static int Band(double[] edges, double x)
    {
        var i = 0;
        while (i < edges.Length && x >= edges[i]) i++;
        return i;
    }

    private int DeviceIndex(string? device)
    {
        if (device is not null)
            for (var i = 0; i < _devices.Length - 1; i++)
                if (device.Equals(_devices[i], StringComparison.OrdinalIgnoreCase)) return i;
        return _devices.Length - 1;
    }

    private string BuildName(CohortKey k) =>
        $"eng={Range(_engagement, k.Engagement)}|rec={Range(_recency, k.Recency)}d|dev={_devices[k.Device]}";

    private static string Range(double[] edges, int band)
    {
        var lo = band == 0 ? "-inf" : edges[band - 1].ToString("R", CultureInfo.InvariantCulture);
        var hi = band == edges.Length ? "inf" : edges[band].ToString("R", CultureInfo.InvariantCulture);
        return $"[{lo},{hi})";
    }

    public override string ToString() => $"CohortBands({Count} cohorts: {Options})";
}
