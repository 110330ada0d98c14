using Microsoft.Extensions.Configuration;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Node.Privacy;

/// <summary>Binds <c>Privacy:Cohorts</c> (<see cref="CohortReleaseOptions"/>); unknown keys are errors that name the key.</summary>
public static class CohortSettings
{
    public const string Section = "Privacy:Cohorts";

    public static CohortReleaseOptions Bind(IConfiguration config)
    {
        var section = config.GetSection(Section);
        var options = new CohortReleaseOptions();
        section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        // The binder appends configured array items to an array's default items; band edges must replace them instead.
        var bands = section.GetSection("Bands");
        var defaults = new CohortBandOptions();
        return options with
        {
            Bands = new CohortBandOptions
            {
                EngagementEdges = Array(bands, "EngagementEdges", defaults.EngagementEdges),
                RecencyEdgesDays = Array(bands, "RecencyEdgesDays", defaults.RecencyEdgesDays),
                DeviceTypes = Array(bands, "DeviceTypes", defaults.DeviceTypes),
            },
        };
    }

    private static T[] Array<T>(IConfigurationSection bands, string key, T[] fallback)
    {
        var s = bands.GetSection(key);
        if (!s.Exists()) return fallback;
        // "[]" in JSON arrives as an empty string value: an explicitly empty list.
        if (s.Value is "") return [];
        return s.Get<T[]>() ?? [];
    }
}
