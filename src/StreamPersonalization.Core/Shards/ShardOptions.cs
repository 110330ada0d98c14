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

    /// <value>Pseudonymisation, property minimisation, retention and per-market switches. Default <see cref="Privacy.ShardPrivacy.Off"/>.</value>
    public Privacy.ShardPrivacy Privacy { get; init; } = Core.Privacy.ShardPrivacy.Off;

    /// <value>Event-time cadence at which a user's segments are re-evaluated without a new event (so a user can fall out of "active"). Aligned to multiples of the interval since the Unix epoch. Default 1 day. Allowed 1 minute..7 days.</value>
    public TimeSpan ReevaluationInterval { get; init; } = TimeSpan.FromDays(1);

    /// <value>Time-based re-evaluation stops once a user has been inactive this long (every rolling count is then zero). Default 90 days. Allowed 30..3650 days.</value>
    public TimeSpan ReevaluationHorizon { get; init; } = TimeSpan.FromDays(90);

    /// <value>
    /// How many event ids each user remembers to drop at-least-once re-sends (<c>duplicate_event</c>): the ids of its
    /// accepted events whose event time is within <c>Sessions:Grace</c> of the partition watermark, at most this many
    /// (the newest by event time are kept). 0 turns de-duplication off. Default 64. Allowed 0..1024.
    /// </value>
    public int DuplicateWindow { get; init; } = 64;

    /// <value>
    /// Test seam: called inside entity code while an event is applied, so tests can make it throw deterministically
    /// (a poison record). Null in production: no configuration key sets it.
    /// </value>
    public IEntityFaultInjector? FaultInjector { get; init; }

    internal long ReevaluationIntervalMs => (long)ReevaluationInterval.TotalMilliseconds;
    internal long ReevaluationHorizonMs => (long)ReevaluationHorizon.TotalMilliseconds;

    public ShardOptions Validate()
    {
        Ingest.Validate(); Sessions.Validate(); Engagement.Validate();
        DecoderOptions.Require(ReevaluationInterval >= TimeSpan.FromMinutes(1) && ReevaluationInterval <= TimeSpan.FromDays(7),
            "Segments:ReevaluationInterval", ReevaluationInterval, "00:01:00..7.00:00:00");
        DecoderOptions.Require(ReevaluationHorizon >= TimeSpan.FromDays(30) && ReevaluationHorizon <= TimeSpan.FromDays(3650),
            "Segments:ReevaluationHorizon", ReevaluationHorizon, "30.00:00:00..3650.00:00:00");
        DecoderOptions.Require(DuplicateWindow is >= 0 and <= 1024, "Shards:DuplicateWindow", DuplicateWindow, "0..1024");
        return this;
    }
}
