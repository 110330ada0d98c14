using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
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
    private readonly PartitionIngest _ingest;
    private readonly StringPool _pool = new();
    private readonly UserProcessor _processor;
    private readonly ShardEffects _effects;
    private readonly Dictionary<string, UserEntity> _resident = new(StringComparer.Ordinal);
    private readonly List<UserEntity> _dirty = [];
    private readonly TimerQueue _timers = new();
    private readonly List<ShardOutput> _pending = [];
    private readonly Experiments.Definitions.ExperimentCatalog? _experiments;
    private readonly Func<Experiments.Definitions.ExperimentCatalog>? _currentExperiments;
    private Experiments.Attribution.ExperimentAttribution? _attribution;
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
        _ingest = new PartitionIngest(partition, _options, Counters, _pool);
        _processor = new UserProcessor(_options, catalog);
        _effects = new ShardEffects(this);
    }

    public int Partition { get; }

    /// <summary>Largest on-time event time (Unix ms); <see cref="long.MinValue"/> before the first event. See <see cref="PartitionIngest"/>.</summary>
    public long WatermarkMs { get => _ingest.WatermarkMs; private set => _ingest.WatermarkMs = value; }

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
        if (_ingest.Accept(record, _pending) is { } accepted) Apply(accepted, record);
    }

    /// <summary>Processes an already decoded event (engine benchmark and tests); late events and duplicates are counted only.</summary>
    public void ProcessEvent(ClickEvent e)
    {
        try
        {
            Counters.Records++;
            if (_ingest.Accept(e, null, _pending) is { } accepted) Apply(accepted, null);
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
        _ingest.Reject(record, RejectReason.ProcessingError, error.Detail, _pending, error.ErrorType);
        Flush();
    }

    private void Apply(AcceptedEvent accepted, InputRecord? source)
    {
        var entity = GetOrLoad(accepted.Event.UserId, create: true)!;
        _effects.Source = source;
        try
        {
            // The user's own timers up to the new watermark fire inside OnEvent, after its duplicate check; everybody
            // else's fire after it (the order between users does not matter: they share nothing).
            _processor.OnEvent(entity, accepted.Event, accepted.WatermarkBeforeMs, accepted.WatermarkAfterMs, _effects);
        }
        finally { _effects.Source = null; }
        FireTimersUpTo(accepted.WatermarkAfterMs);
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
        if (watermarkMs > WatermarkMs) _ingest.WatermarkMs = watermarkMs;
        while (_timers.TryPopDue(watermarkMs, out var key, out var due))
        {
            var entity = GetOrLoad(key, create: false);
            if (entity is null || entity.ScheduledDueMs != due) continue;   // stale entry: superseded by an earlier one
            _processor.AdvanceTo(entity, watermarkMs, _effects);
        }
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

    private Experiments.Attribution.ExperimentAttribution? NewAttribution() => _experiments is null ? null
        : new Experiments.Attribution.ExperimentAttribution(_currentExperiments ?? (() => _experiments), new Experiments.Attribution.ExperimentDeltaBuilder());

    /// <summary>The shard's side of a user step: everything goes straight into the shard's own collections.</summary>
    private sealed class ShardEffects(UserShard shard) : IUserEffects
    {
        /// <summary>The record being applied (null for <see cref="ProcessEvent"/>): a duplicate's dead letter copies it.</summary>
        public InputRecord? Source;

        public ShardCounters Counters => shard.Counters;

        public Experiments.Attribution.ExperimentAttribution? Attribution => shard._attribution;

        public void Emit(ShardOutput output) => shard._pending.Add(output);

        public void Rejected(RejectReason reason, string detail) => shard._ingest.Reject(Source, reason, detail, shard._pending);

        public void Dirty(UserEntity entity) => shard.MarkDirty(entity);

        public void Scheduled(UserEntity entity, long dueMs) => shard._timers.Schedule(entity.Key, dueMs);

        public void Deleted(UserEntity entity) => shard.DeleteEntity(entity);

        public void Created(UserEntity entity)
        {
            shard._deletedKeys.Remove(entity.Key);   // re-created: the new state's upsert replaces the row
            shard._resident[entity.Key] = entity;
            entity.LastTouchedTicks = shard.CurrentTick;
        }

        public void Erased(string key) => shard._erasures.Add(key);

        public void Withdrew(string key) => shard._withdrawals.Add(key);
    }

    /// <summary>A resident entity, for tests and diagnostics.</summary>
    public UserEntity? Peek(string key) => _resident.GetValueOrDefault(key);

    public override string ToString() => $"UserShard(p{Partition} wm={WatermarkMs} resident={_resident.Count} timers={_timers.Count})";
}
