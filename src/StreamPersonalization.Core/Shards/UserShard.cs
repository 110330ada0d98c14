using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The user entities of one source partition and the single-threaded logic that drives them. Pure:
/// no Kafka, no SQL, no wall clock in any decision. Decisions follow event time and the partition's
/// watermark (the largest accepted event time so far), so replaying the partition from a checkpoint
/// reproduces the same outputs with the same record ids.
/// </summary>
/// <remarks>
/// <para>Per record: decode → late check (ts &lt; watermark − grace ⇒ dead-letter <c>late_event</c>) → duplicate check
/// (same event_id as a remembered accepted event of the user ⇒ dead-letter <c>duplicate_event</c>, see
/// <see cref="EventIdWindow"/>) → advance watermark, firing every entity timer due at or before it (session closes,
/// re-evaluations) in (due, key) order with "now" = the timer's due time → apply the event to its entity and
/// evaluate its segments with "now" = the watermark.</para>
/// <para>A record's outputs are held until it has been processed completely, so a record that throws emits
/// nothing. An exception while applying the event to its entity becomes a <see cref="PoisonRecordException"/>;
/// the shard's state is then half-changed and must be rewound (<see cref="ResetTo"/>, driven by
/// <see cref="PoisonRecordGuard"/>). An exception in a timer (not attributable to the record whose watermark
/// advance fired it) or an <see cref="EntityStateException"/> propagates as it is: the shard cannot make progress.</para>
/// </remarks>
public sealed partial class UserShard
{
    private readonly ShardOptions _options;
    private readonly SegmentCatalog _catalog;
    private readonly IShardOutput _output;
    private readonly IEntityStateSource _source;
    private readonly EventDecoder _decoder;
    private readonly StringPool _pool = new();
    private readonly HalfLifeDecay _decay;
    private readonly double[] _weights;
    private readonly Dictionary<string, UserEntity> _resident = new(StringComparer.Ordinal);
    private readonly List<UserEntity> _dirty = [];
    private readonly TimerQueue _timers = new();
    private readonly List<ClosedSession> _closed = [];
    private readonly List<ShardOutput> _pending = [];
    private readonly Experiments.Definitions.ExperimentCatalog? _experiments;
    private readonly Func<Experiments.Definitions.ExperimentCatalog>? _currentExperiments;
    private Experiments.Attribution.ExperimentAttribution? _attribution;
    private readonly Privacy.Pseudonymization.PseudonymCache? _pseudonyms;
    private readonly HashSet<string> _deletedKeys = new(StringComparer.Ordinal);
    private readonly List<string> _erasures = [];
    private readonly List<string> _withdrawals = [];

    /// <param name="experiments">When given, exposures and conversions are attributed and accumulated in <see cref="ExperimentDeltas"/>.</param>
    /// <param name="currentExperiments">The catalog in force (file + admin definitions) read per event; <paramref name="experiments"/> when null.</param>
    public UserShard(int partition, ShardOptions options, SegmentCatalog catalog, IShardOutput output, IEntityStateSource? source = null,
        Experiments.Definitions.ExperimentCatalog? experiments = null, Func<Experiments.Definitions.ExperimentCatalog>? currentExperiments = null)
    {
        _currentExperiments = currentExperiments;
        _experiments = experiments;
        _attribution = NewAttribution();
        Partition = partition;
        _options = options.Validate();
        _catalog = catalog;
        _output = output;
        _source = source ?? NoEntityState.Instance;
        _pseudonyms = options.Privacy.Pseudonymizer is { } p ? new(p, options.Privacy.PseudonymCacheCapacity) : null;
        _decoder = new EventDecoder(options.Ingest, _pool, options.Privacy.Properties, _pseudonyms);
        _decay = new HalfLifeDecay(options.Engagement.HalfLife);
        _weights = options.Engagement.WeightTable();
    }

    public int Partition { get; }

    /// <summary>Largest accepted event time (Unix ms); <see cref="long.MinValue"/> before the first event.</summary>
    public long WatermarkMs { get; private set; } = long.MinValue;

    public ShardCounters Counters { get; } = new();

    public int ResidentEntities => _resident.Count;

    public int DirtyEntities => _dirty.Count;

    public int PendingTimers => _timers.Count;

    /// <summary>Wall-clock tick the adapter sets before each batch; used only to pick entities to passivate.</summary>
    public long CurrentTick { get; set; }

    public SegmentCatalog Catalog => _catalog;

    /// <summary>When set, outputs are computed and counted but not handed to the output (a replay of records whose outputs were already emitted).</summary>
    public bool MuteOutputs { get; set; }

    /// <summary>
    /// Decodes, validates and processes one raw record; bad records go to the output as dead letters. Throws
    /// <see cref="PoisonRecordException"/> if entity code threw (nothing of the record is emitted; rewind the shard).
    /// </summary>
    public void Process(InputRecord record)
    {
        try { ProcessRecord(record); }
        catch { _pending.Clear(); throw; }
        Flush();
    }

    private void ProcessRecord(InputRecord record)
    {
        Counters.Records++;
        DecodeResult decoded;
        try
        {
            decoded = _decoder.Decode(record.Key, record.Value, record.TimestampMs, new EventIdFallback(record.Topic, record.Partition, record.Offset));
        }
        catch (Exception ex)
        {
            Reject(record, RejectReason.ProcessingError, $"decoder failed: {ex.GetType().FullName}: {ex.Message}", ex.GetType().FullName);
            return;
        }
        if (!decoded.IsValid) { Reject(record, decoded.Reason, decoded.Detail!); return; }
        Apply(Ingested(decoded), record);
    }

    /// <summary>Processes an already decoded event (engine benchmark and tests); late events and duplicates are counted only.</summary>
    public void ProcessEvent(ClickEvent e)
    {
        try
        {
            Counters.Records++;
            Apply(e, null);
        }
        catch { _pending.Clear(); throw; }
        Flush();
    }

    /// <summary>
    /// Dead-letters <paramref name="record"/> as <c>processing_error</c> without touching any other state — exactly as
    /// if the decoder had rejected it. Used when replaying past a poison record.
    /// </summary>
    public void RejectPoison(InputRecord record, PoisonRecordException error)
    {
        Counters.Records++;
        Reject(record, RejectReason.ProcessingError, error.Detail, error.InnerException!.GetType().FullName);
        Flush();
    }

    private void Apply(ClickEvent e, InputRecord? source)
    {
        var graceMs = _options.Sessions.GraceMs;
        // Consent and erasure requests act whatever their time: a late one must still take effect, and one stamped by
        // an admin with the wall clock must not move a lagging partition's event-time clock.
        var privacyRequest = e.Type is EventType.Forget or EventType.Consent;
        if (!privacyRequest && WatermarkMs != long.MinValue && e.TimestampMs < WatermarkMs - graceMs)
        {
            Counters.LateEvents++;
            Reject(source, RejectReason.LateEvent, $"ts {TimestampParser.Format(e.TimestampMs)} is {WatermarkMs - e.TimestampMs} ms behind the partition watermark; grace {graceMs} ms");
            return;
        }
        var entity = GetOrLoad(e.UserId, create: true)!;
        var idHash = 0UL;
        if (_options.DuplicateWindow > 0)
        {
            idHash = EventIdWindow.Hash(e.EventId);
            if (entity.RecentEventIds is { } ids)
            {
                if (WatermarkMs != long.MinValue) ids.Prune(WatermarkMs - graceMs);
                if (ids.Contains(idHash))
                {
                    Reject(source, RejectReason.DuplicateEvent, $"event_id {e.EventId} was already accepted for user {e.UserId} within the grace period");
                    return;
                }
            }
        }
        Counters.ValidEvents++;
        if (e.Type == EventType.Custom) Counters.CustomTypeEvents++;
        if (!privacyRequest && e.TimestampMs > WatermarkMs) FireTimersUpTo(e.TimestampMs);
        try
        {
            if (_options.DuplicateWindow > 0) (entity.RecentEventIds ??= new EventIdWindow()).Add(idHash, e.TimestampMs, _options.DuplicateWindow);
            if (HandledByPrivacy(entity, e)) return;
            if (_attribution is not null) entity.Exposures = _attribution.Apply(e, entity.Exposures, entity.Engagement, _decay);
            entity.Sessions.Add(new SessionEvent(e.TimestampMs, e.Value ?? 0, e.Type));
            entity.Engagement.ApplyEvent(e, _weights[(int)e.Type], _decay);
            _options.FaultInjector?.OnApplying(e);
            Evaluate(entity, WatermarkMs, EvaluationCause.Event);
            Schedule(entity);
            MarkDirty(entity);
        }
        catch (Exception ex) when (ex is not (EntityStateException or OperationCanceledException))
        {
            throw new PoisonRecordException(e, ex);
        }
    }

    /// <summary>Moves the watermark forward and fires every timer due at or before it.</summary>
    public void AdvanceWatermark(long watermarkMs)
    {
        try { FireTimersUpTo(watermarkMs); }
        catch { _pending.Clear(); throw; }
        Flush();
    }

    private void FireTimersUpTo(long watermarkMs)
    {
        if (watermarkMs <= WatermarkMs) return;
        WatermarkMs = watermarkMs;
        while (_timers.TryPopDue(watermarkMs, out var key, out var due))
        {
            var entity = GetOrLoad(key, create: false);
            if (entity is null || entity.ScheduledDueMs != due) continue;   // stale entry: superseded by an earlier one
            entity.ScheduledDueMs = long.MaxValue;
            if (NextDue(entity) <= due && !OnTimer(entity, due)) continue;   // deleted by the retention limit
            Schedule(entity);
            MarkDirty(entity);
        }
    }

    /// <returns>False when the timer deleted the entity (retention).</returns>
    private bool OnTimer(UserEntity entity, long nowMs)
    {
        Counters.TimersFired++;
        if (RetentionExpired(entity, nowMs)) { DeleteEntity(entity); Counters.Count(PrivacyCounter.RetentionDeletes); return false; }
        if (entity.RecentEventIds is { } ids)
        {
            ids.Prune(WatermarkMs - _options.Sessions.GraceMs);   // an idle user's ids are all gone by its session close
            if (ids.Count == 0) entity.RecentEventIds = null;
        }
        _closed.Clear();
        entity.Sessions.CloseDue(nowMs, _options.Sessions, _closed);
        foreach (var s in _closed)
        {
            entity.Engagement.ApplySessionStart(s.StartMs, s.EndMs - s.StartMs);
            _pending.Add(new SessionClosedOutput(entity.Key, entity.Sequence++, s, nowMs));
            Counters.SessionsClosed++;
        }
        var reevaluate = entity.NextReevaluationMs <= nowMs;
        if (_closed.Count > 0 || reevaluate)
            Evaluate(entity, nowMs, _closed.Count > 0 ? EvaluationCause.SessionClosed : EvaluationCause.Reevaluation);
        MarkDirty(entity);
        return true;
    }

    /// <summary>Evaluates every segment rule at <paramref name="nowMs"/> and emits one transition per change, in segment order.</summary>
    private void Evaluate(UserEntity entity, long nowMs, EvaluationCause cause)
    {
        if (PersonalizationOff(entity)) { entity.NextReevaluationMs = long.MaxValue; return; }
        var features = default(UserFeatures);
        entity.Engagement.Fill(nowMs, _decay, ref features);
        var mask = _catalog.Evaluate(in features);
        if (entity.RetiredMemberships is { } retired)
        {
            foreach (var id in retired) Emit(new SegmentTransition(entity.Key, entity.Sequence++, id, false, _catalog.Version, nowMs, cause));
            entity.RetiredMemberships = null;
        }
        var changed = mask ^ entity.Membership;
        while (changed != 0)
        {
            var bit = System.Numerics.BitOperations.TrailingZeroCount(changed);
            changed &= changed - 1;
            var entered = (mask & (1UL << bit)) != 0;
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, _catalog.Segments[bit].Id, entered, _catalog.Version, nowMs, cause));
        }
        entity.Membership = mask;
        var interval = _options.ReevaluationIntervalMs;
        var nextReevaluation = (Math.Max(nowMs, 0) / interval + 1) * interval;
        entity.NextReevaluationMs = nextReevaluation - entity.Engagement.LastEventMs > _options.ReevaluationHorizonMs ? long.MaxValue : nextReevaluation;
    }

    private void Emit(SegmentTransition t)
    {
        Counters.Transitions++;
        _pending.Add(t);
    }

    /// <summary>Hands the finished record's outputs to the output (or drops them when muted).</summary>
    private void Flush()
    {
        if (_pending.Count == 0) return;
        try
        {
            if (!MuteOutputs) foreach (var o in _pending) _output.Emit(o);
        }
        finally { _pending.Clear(); }
    }

    private long NextDue(UserEntity e) => Math.Min(Math.Min(e.Sessions.NextCloseDue(_options.Sessions), e.NextReevaluationMs), RetentionDue(e));

    private void Schedule(UserEntity entity)
    {
        var next = NextDue(entity);
        if (next < entity.ScheduledDueMs)
        {
            _timers.Schedule(entity.Key, next);
            entity.ScheduledDueMs = next;
        }
    }

    private UserEntity? GetOrLoad(string key, bool create)
    {
        if (!_resident.TryGetValue(key, out var entity))
        {
            // A key deleted since the last checkpoint is absent, whatever the store still holds until then.
            if (_deletedKeys.Contains(key))
            {
                if (!create) return null;
                _deletedKeys.Remove(key);   // re-created: the new state's upsert replaces the row
                entity = new UserEntity(key);
                _resident.Add(key, entity);
                entity.LastTouchedTicks = CurrentTick;
                return entity;
            }
            try
            {
                var state = _source.Load(key);
                if (state is not null) entity = UserStateSerializer.Deserialize(key, state, _catalog, _pool);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new EntityStateException(key, ex);
            }
            if (entity is null)
            {
                if (!create) return null;
                entity = new UserEntity(key);
            }
            _resident.Add(key, entity);
        }
        entity.LastTouchedTicks = CurrentTick;
        return entity;
    }

    private void MarkDirty(UserEntity entity)
    {
        if (entity.Dirty) return;
        entity.Dirty = true;
        _dirty.Add(entity);
    }

    /// <summary>Counts a rejected record and dead-letters it (only counts when there is no source record: <see cref="ProcessEvent"/>).</summary>
    private void Reject(InputRecord? record, RejectReason reason, string detail, string? errorType = null)
    {
        Counters.Rejected[(int)reason]++;
        if (record is not null) _pending.Add(new DeadLetter(Redacted(record), reason, detail, errorType));
    }

    private Experiments.Attribution.ExperimentAttribution? NewAttribution() => _experiments is null ? null
        : new Experiments.Attribution.ExperimentAttribution(_currentExperiments ?? (() => _experiments), new Experiments.Attribution.ExperimentDeltaBuilder());

    /// <summary>A resident entity, for tests and diagnostics.</summary>
    public UserEntity? Peek(string key) => _resident.GetValueOrDefault(key);

    public override string ToString() => $"UserShard(p{Partition} wm={WatermarkMs} resident={_resident.Count} timers={_timers.Count})";
}
