using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Sessions;

namespace StreamPersonalization.Core.Users;

/// <summary>
/// One user's state, owned by exactly one shard thread (actor semantics: one writer, ordered messages,
/// no locks). Behaviour lives in <see cref="Shards.UserShard"/>; this class only holds state.
/// <code>
///            first event / load from store
///   (absent) ─────────────────────────────▶ [resident, dirty] ──checkpoint──▶ [resident, clean]
///                                                  ▲   event/timer                │ idle ≥ PassivateAfter
///                                                  └──────────────────────────────┤
///                                           load on next event or timer           ▼
///                                                                          [passivated: store only]
/// </code>
/// </summary>
public sealed class UserEntity(string key)
{
    public string Key { get; } = key;

    /// <summary>Number of outputs emitted so far; the next output's id is "Key/Sequence".</summary>
    public long Sequence;

    public OpenSessions Sessions { get; } = new();

    public EngagementState Engagement { get; } = new();

    /// <summary>Bit i set = member of catalog segment with Index i.</summary>
    public ulong Membership;

    /// <summary>Memberships in segments that the current catalog no longer has; exited at the next evaluation.</summary>
    public string[]? RetiredMemberships;

    /// <summary>Experiment variants this user was exposed to, with attributed conversions and values (null: none).</summary>
    public Experiments.Attribution.ExperimentExposure[]? Exposures;

    /// <summary>Ids of recently accepted events, to drop re-sends (null: none remembered). See <see cref="Shards.EventIdWindow"/>.</summary>
    public Shards.EventIdWindow? RecentEventIds;

    /// <summary>
    /// The user withdrew consent to personalization: the entity then holds nothing else (no segments, sessions,
    /// engagement or exposures) until a later grant starts it afresh.
    /// </summary>
    public bool ConsentWithdrawn;

    /// <summary>Event time of the next time-based re-evaluation; <see cref="long.MaxValue"/> for none.</summary>
    public long NextReevaluationMs = long.MaxValue;

    /// <summary>
    /// Due time of this entity's one live entry in the shard's timer queue (<see cref="long.MaxValue"/>: none).
    /// Persisted with the state and as the store's timer column, so the queue rebuilt after a restart holds
    /// exactly the live entries. Always ≤ the entity's next due time; other queue entries for the key are stale.
    /// </summary>
    public long ScheduledDueMs = long.MaxValue;

    internal bool Dirty;

    /// <summary>Wall-clock ticks of the last touch, for passivation only (never for decisions).</summary>
    internal long LastTouchedTicks;

    public override string ToString() =>
        $"UserEntity({Key} seq={Sequence} members=0x{Membership:x} open={Sessions.BufferedEvents} events={Engagement.TotalEvents})";
}
