using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Engagement;

/// <summary>Engagement score settings (configuration section <c>Engagement</c>).</summary>
public sealed record EngagementOptions
{
    /// <value>Half-life of the decayed score: an event's contribution halves every HalfLife of event time. Default 7 days. Allowed 1 minute..365 days.</value>
    public TimeSpan HalfLife { get; init; } = TimeSpan.FromDays(7);

    /// <value>Weight per event type (wire name, e.g. "purchase"); "custom" applies to every non-standard type. Missing types weigh 0. Allowed -1000..1000 each.</value>
    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>
    {
        ["page_view"] = 1, ["click"] = 1, ["scroll"] = 0.5, ["add_to_cart"] = 3, ["purchase"] = 10,
        ["video_play"] = 2, ["form_submit"] = 2, ["custom"] = 1,
    };

    /// <summary>Weights indexed by <see cref="EventType"/>, for the hot path.</summary>
    public double[] WeightTable()
    {
        var table = new double[EventTypes.Count];
        foreach (var (name, w) in Weights) table[(int)EventTypes.Parse(name)] = w;
        return table;
    }

    public EngagementOptions Validate()
    {
        if (HalfLife < TimeSpan.FromMinutes(1) || HalfLife > TimeSpan.FromDays(365))
            throw new ArgumentOutOfRangeException("Engagement:HalfLife", HalfLife, $"Configuration key 'Engagement:HalfLife' is {HalfLife}; allowed: 00:01:00..365.00:00:00.");
        foreach (var (name, w) in Weights)
        {
            if (!double.IsFinite(w) || Math.Abs(w) > 1000)
                throw new ArgumentOutOfRangeException($"Engagement:Weights:{name}", w, $"Configuration key 'Engagement:Weights:{name}' is {w}; allowed: -1000..1000.");
            if (name != "custom" && EventTypes.Parse(name) == EventType.Custom)
                throw new ArgumentException($"Configuration key 'Engagement:Weights:{name}' names no standard event type; allowed: page_view, click, scroll, add_to_cart, purchase, video_play, form_submit, exposure, conversion, consent, forget, custom.", $"Engagement:Weights:{name}");
        }
        return this;
    }
}
