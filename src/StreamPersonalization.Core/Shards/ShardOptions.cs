using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Sessions;

namespace StreamPersonalization.Core.Shards;

/// <summary>Everything the user-shard logic needs to know (configuration sections Ingest, Sessions, Engagement, Segments).</summary>
public sealed record ShardOptions
{
    /// <value>Ingest validation limits.</value>
    public DecoderOptions Ingest { get; init; } = new();

    /// <value>Sessionization settings.</value>
    public SessionOptions Sessions { get; init; } = new();

    /// <value>Engagement score settings.</value>
    public EngagementOptions Engagement { get; init; } = new();

    /// <value>Event-time cadence at which a user's segments are re-evaluated without a new event (so a user can fall out of "active"). Aligned to multiples of the interval since the Unix epoch. Default 1 day. Allowed 1 minute..7 days.</value>
    public TimeSpan ReevaluationInterval { get; init; } = TimeSpan.FromDays(1);

    /// <value>Time-based re-evaluation stops once a user has been inactive this long (every rolling count is then zero). Default 90 days. Allowed 30..3650 days.</value>
    public TimeSpan ReevaluationHorizon { get; init; } = TimeSpan.FromDays(90);

    internal long ReevaluationIntervalMs => (long)ReevaluationInterval.TotalMilliseconds;
    internal long ReevaluationHorizonMs => (long)ReevaluationHorizon.TotalMilliseconds;

    public ShardOptions Validate()
    {
        Ingest.Validate(); Sessions.Validate(); Engagement.Validate();
        DecoderOptions.Require(ReevaluationInterval >= TimeSpan.FromMinutes(1) && ReevaluationInterval <= TimeSpan.FromDays(7),
            "Segments:ReevaluationInterval", ReevaluationInterval, "00:01:00..7.00:00:00");
        DecoderOptions.Require(ReevaluationHorizon >= TimeSpan.FromDays(30) && ReevaluationHorizon <= TimeSpan.FromDays(3650),
            "Segments:ReevaluationHorizon", ReevaluationHorizon, "30.00:00:00..3650.00:00:00");
        return this;
    }
}
