using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// What happens to one user: its accepted events and its event-time timers, applied to its <see cref="UserEntity"/>.
/// Holds no user state (one instance serves every user of a partition or a node); what a step changes beyond the
/// entity goes to an <see cref="IUserEffects"/>; it is safe to share between threads. The same code runs in the single-threaded <see cref="UserShard"/> and
/// in a sharded user actor, so both produce the same state and outputs.
/// </summary>
/// <remarks>
/// Timers depend only on their due time, never on the watermark at which they are noticed: a user actor learns of the
/// partition's watermark only through its own messages, so the same timer may fire at different watermarks in
/// different runs, and must leave the same state whenever it fires. The partition's watermark before and after each
/// event tells the user which timers precede the event's duplicate check and which precede its application.
/// </remarks>
public sealed partial class UserProcessor
{
    private readonly ShardOptions _options;
    private readonly SegmentCatalog _catalog;
    private readonly HalfLifeDecay _decay;
    private readonly double[] _weights;
    // Scratch for the sessions a timer closes: one per thread, as actors of many users share this processor.
    [ThreadStatic] private static List<ClosedSession>? t_closed;

    public UserProcessor(ShardOptions options, SegmentCatalog catalog)
    {
        _options = options.Validate();
        _catalog = catalog;
        _decay = new HalfLifeDecay(options.Engagement.HalfLife);
        _weights = options.Engagement.WeightTable();
    }

    public SegmentCatalog Catalog => _catalog;

    public ShardOptions Options => _options;

    /// <summary>
    /// Fires the entity's timers due at or before <paramref name="watermarkMs"/>, each with "now" = its due time.
    /// Returns false when a timer deleted the entity (the retention limit): the caller drops it.
    /// </summary>
    public bool AdvanceTo(UserEntity entity, long watermarkMs, IUserEffects fx)
    {
        while (entity.ScheduledDueMs <= watermarkMs)
        {
            var due = entity.ScheduledDueMs;
            entity.ScheduledDueMs = long.MaxValue;
            if (NextDue(entity) <= due && !OnTimer(entity, due, fx)) return false;
            Schedule(entity, fx);
            fx.Dirty(entity);
        }
        return true;
    }

    /// <summary>
    /// Applies one on-time event. The entity's timers due at or before <paramref name="watermarkBeforeMs"/> must have
    /// fired (<see cref="AdvanceTo"/>); those due up to <paramref name="watermarkAfterMs"/> fire here, after the
    /// duplicate check and before the event is applied. Returns the entity to keep: this one, a fresh one when a timer
    /// here deleted it (the event starts the user afresh), or null when the event erased the user.
    /// Throws <see cref="PoisonRecordException"/> when entity code threw (the entity is then half-changed).
    /// </summary>
    public UserEntity? OnEvent(UserEntity entity, ClickEvent e, long watermarkBeforeMs, long watermarkAfterMs, IUserEffects fx)
    {
        var counters = fx.Counters;
        var idHash = 0UL;
        if (_options.DuplicateWindow > 0)
        {
            idHash = EventIdWindow.Hash(e.EventId);
            if (entity.RecentEventIds is { } ids)
            {
                if (watermarkBeforeMs != long.MinValue) ids.Prune(watermarkBeforeMs - _options.Sessions.GraceMs);
                if (ids.Contains(idHash))
                {
                    fx.Rejected(RejectReason.DuplicateEvent, $"event_id {e.EventId} was already accepted for user {e.UserId} within the grace period");
                    return entity;
                }
            }
        }
        counters.ValidEvents++;
        if (e.Type == EventType.Custom) counters.CustomTypeEvents++;
        if (!AdvanceTo(entity, watermarkAfterMs, fx))
        {
            entity = new UserEntity(entity.Key);
            fx.Created(entity);
        }
        try
        {
            if (_options.DuplicateWindow > 0) (entity.RecentEventIds ??= new EventIdWindow()).Add(idHash, e.TimestampMs, _options.DuplicateWindow);
            if (HandledByPrivacy(entity, e, fx, out var erased)) return erased ? null : entity;
            if (fx.Attribution is { } attribution) entity.Exposures = attribution.Apply(e, entity.Exposures, entity.Engagement, _decay);
            entity.Sessions.Add(new SessionEvent(e.TimestampMs, e.Value ?? 0, e.Type));
            entity.Engagement.ApplyEvent(e, _weights[(int)e.Type], _decay);
            _options.FaultInjector?.OnApplying(e);
            Evaluate(entity, watermarkAfterMs, EvaluationCause.Event, fx);
            Schedule(entity, fx);
            fx.Dirty(entity);
            return entity;
        }
        catch (Exception ex) when (ex is not (EntityStateException or OperationCanceledException))
        {
            throw new PoisonRecordException(e, ex);
        }
    }

    /// <returns>False when the timer deleted the entity (retention).</returns>
    private bool OnTimer(UserEntity entity, long nowMs, IUserEffects fx)
    {
        var counters = fx.Counters;
        counters.TimersFired++;
        if (RetentionExpired(entity, nowMs))
        {
            fx.Deleted(entity);
            counters.Count(PrivacyCounter.RetentionDeletes);
            return false;
        }
        if (entity.RecentEventIds is { } ids)
        {
            // By its due time the watermark is at least nowMs, so ids older than nowMs − grace can no longer be
            // duplicates of an on-time event (an idle user's ids are all gone by its session close).
            ids.Prune(nowMs - _options.Sessions.GraceMs);
            if (ids.Count == 0) entity.RecentEventIds = null;
        }
        var closed = t_closed ??= [];
        closed.Clear();
        entity.Sessions.CloseDue(nowMs, _options.Sessions, closed);
        foreach (var s in closed)
        {
            entity.Engagement.ApplySessionStart(s.StartMs, s.EndMs - s.StartMs);
            fx.Emit(new SessionClosedOutput(entity.Key, entity.Sequence++, s, nowMs));
            counters.SessionsClosed++;
        }
        var reevaluate = entity.NextReevaluationMs <= nowMs;
        if (closed.Count > 0 || reevaluate)
            Evaluate(entity, nowMs, closed.Count > 0 ? EvaluationCause.SessionClosed : EvaluationCause.Reevaluation, fx);
        fx.Dirty(entity);
        return true;
    }

    /// <summary>Evaluates every segment rule at <paramref name="nowMs"/> and emits one transition per change, in segment order.</summary>
    private void Evaluate(UserEntity entity, long nowMs, EvaluationCause cause, IUserEffects fx)
    {
        if (PersonalizationOff(entity)) { entity.NextReevaluationMs = long.MaxValue; return; }
        var features = default(UserFeatures);
        entity.Engagement.Fill(nowMs, _decay, ref features);
        var mask = _catalog.Evaluate(in features);
        if (entity.RetiredMemberships is { } retired)
        {
            foreach (var id in retired) Emit(new SegmentTransition(entity.Key, entity.Sequence++, id, false, _catalog.Version, nowMs, cause), fx);
            entity.RetiredMemberships = null;
        }
        var changed = mask ^ entity.Membership;
        while (changed != 0)
        {
            var bit = System.Numerics.BitOperations.TrailingZeroCount(changed);
            changed &= changed - 1;
            var entered = (mask & (1UL << bit)) != 0;
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, _catalog.Segments[bit].Id, entered, _catalog.Version, nowMs, cause), fx);
        }
        entity.Membership = mask;
        var interval = _options.ReevaluationIntervalMs;
        var nextReevaluation = (Math.Max(nowMs, 0) / interval + 1) * interval;
        entity.NextReevaluationMs = nextReevaluation - entity.Engagement.LastEventMs > _options.ReevaluationHorizonMs ? long.MaxValue : nextReevaluation;
    }

    private static void Emit(SegmentTransition t, IUserEffects fx)
    {
        fx.Counters.Transitions++;
        fx.Emit(t);
    }

    /// <summary>The entity's next due time (session close, re-evaluation or retention; <see cref="long.MaxValue"/>: none).</summary>
    public long NextDue(UserEntity e) => Math.Min(Math.Min(e.Sessions.NextCloseDue(_options.Sessions), e.NextReevaluationMs), RetentionDue(e));

    /// <summary>Moves the entity's one live timer earlier when its next due time is earlier (later ones leave it: it fires early and re-arms).</summary>
    private void Schedule(UserEntity entity, IUserEffects fx)
    {
        var next = NextDue(entity);
        if (next < entity.ScheduledDueMs)
        {
            entity.ScheduledDueMs = next;
            fx.Scheduled(entity, next);
        }
    }
}

/// <summary>
/// What a <see cref="UserProcessor"/> step does beyond the entity: outputs, counters, attribution, and the changes
/// the checkpoint must carry. Implemented by the partition's <see cref="UserShard"/> and by a user actor.
/// </summary>
public interface IUserEffects
{
    ShardCounters Counters { get; }

    /// <summary>Experiment attribution (null without an experiment catalog).</summary>
    Experiments.Attribution.ExperimentAttribution? Attribution { get; }

    /// <summary>A transition, a closed session or an erasure, in the user's order.</summary>
    void Emit(ShardOutput output);

    /// <summary>The event being applied is rejected (a duplicate); the implementation counts it and dead-letters its record.</summary>
    void Rejected(RejectReason reason, string detail);

    /// <summary>The entity changed and must be written at the next checkpoint.</summary>
    void Dirty(UserEntity entity);

    /// <summary>The entity's live timer moved to <paramref name="dueMs"/> (earlier than before).</summary>
    void Scheduled(UserEntity entity, long dueMs);

    /// <summary>The entity is gone (erasure or retention): its row is deleted at the next checkpoint unless it is created again.</summary>
    void Deleted(UserEntity entity);

    /// <summary>A fresh entity replaces one deleted during the same step.</summary>
    void Created(UserEntity entity);

    /// <summary>The user was erased: its stored assignments are erased (with an audit entry) in the next checkpoint.</summary>
    void Erased(string key);

    /// <summary>The user withdrew consent: its stored assignments are deleted in the next checkpoint.</summary>
    void Withdrew(string key);
}
