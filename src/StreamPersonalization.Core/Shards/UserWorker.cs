using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Attribution;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// One user's side of the actor runtime, without the actor: it holds the user's entity and runs each round's
/// <see cref="UserWork"/> through the shared <see cref="UserProcessor"/>, answering with a <see cref="UserWorkResult"/>.
/// A user actor is a thin shell around it (loading, passivation, messages).
/// </summary>
public sealed class UserWorker
{
    private readonly UserProcessor _processor;
    private readonly ExperimentDeltaRecorder? _recorder;
    private readonly ExperimentAttribution? _attribution;
    private bool _dirtySinceCheckpoint;

    /// <param name="experiments">The catalog in force, read per event; null: no attribution.</param>
    public UserWorker(string key, UserProcessor processor, Func<Experiments.Definitions.ExperimentCatalog>? experiments)
    {
        Key = key;
        _processor = processor;
        if (experiments is null) return;
        _recorder = new ExperimentDeltaRecorder();
        _attribution = new ExperimentAttribution(experiments, _recorder);
    }

    public string Key { get; }

    /// <summary>The user's state; null when it has none (never seen, erased or deleted by retention).</summary>
    public UserEntity? Entity { get; private set; }

    /// <summary>The state changed since it was last taken for a checkpoint (an idle actor may stop only when false).</summary>
    public bool DirtySinceCheckpoint => _dirtySinceCheckpoint;

    /// <summary>Starts from the committed state (null: no stored row).</summary>
    public void Restore(byte[]? state, StringPool? pool = null)
    {
        Entity = state is null ? null : UserStateSerializer.Deserialize(Key, state, _processor.Catalog, pool);
        _dirtySinceCheckpoint = false;
    }

    /// <summary>Drops the state held (superseded by a newer incarnation, or half-changed by a failed round): the next
    /// round restores from the store, so nothing here needs saving.</summary>
    public void Forget()
    {
        Entity = null;
        _dirtySinceCheckpoint = false;
    }

    public UserWorkResult Run(UserWork work)
    {
        var fx = new RoundEffects(_attribution);
        var entity = Entity;
        foreach (var accepted in work.Events)
        {
            fx.Offset = accepted.Offset;
            if (_recorder is not null) _recorder.Offset = accepted.Offset;
            entity ??= fx.Create(Key);
            try
            {
                if (!_processor.AdvanceTo(entity, accepted.WatermarkBeforeMs, fx)) entity = fx.Create(Key);
                entity = _processor.OnEvent(entity, accepted.Event, accepted.WatermarkBeforeMs, accepted.WatermarkAfterMs, fx);
            }
            catch (PoisonRecordException ex)
            {
                Forget();   // half-changed: the partition rewinds and this worker restores
                return fx.Result(Key, long.MaxValue, null, ex, accepted.Offset);
            }
        }
        if (entity is not null && !_processor.AdvanceTo(entity, work.WatermarkEndMs, fx)) entity = null;
        Entity = entity;
        _dirtySinceCheckpoint |= fx.Changed;
        EntityWrite? write = null;
        if (work.TakeState && _dirtySinceCheckpoint)
        {
            write = entity is null ? new EntityWrite(Key, null, null)
                : new EntityWrite(Key, UserStateSerializer.Serialize(entity, _processor.Catalog), entity.ScheduledDueMs == long.MaxValue ? null : entity.ScheduledDueMs);
            _dirtySinceCheckpoint = false;
        }
        return fx.Result(Key, entity?.ScheduledDueMs ?? long.MaxValue, write);
    }

    /// <summary>The state held now, serialized as a stored row would be (null: none).</summary>
    public byte[]? Snapshot() => Entity is null ? null : UserStateSerializer.Serialize(Entity, _processor.Catalog);

    public override string ToString() => $"UserWorker({Key}{(Entity is null ? ", no state" : "")}{(_dirtySinceCheckpoint ? ", dirty" : "")})";

    /// <summary>What one round did, collected for its result.</summary>
    private sealed class RoundEffects(ExperimentAttribution? attribution) : IUserEffects
    {
        private readonly List<ShardOutput> _outputs = [];
        private List<(long, string)>? _duplicates;
        private List<long>? _erased, _withdrew;

        public long Offset;
        public bool Changed;

        public ShardCounters Counters { get; } = new();

        public ExperimentAttribution? Attribution => attribution;

        public void Emit(ShardOutput output) => _outputs.Add(output);

        public void Rejected(RejectReason reason, string detail)
        {
            Counters.Rejected[(int)reason]++;
            (_duplicates ??= []).Add((Offset, detail));
        }

        public void Dirty(UserEntity entity) => Changed = true;

        public void Scheduled(UserEntity entity, long dueMs) { }

        public void Deleted(UserEntity entity) => Changed = true;

        public void Created(UserEntity entity) => Changed = true;

        public UserEntity Create(string key) => new(key);

        public void Erased(string key) => (_erased ??= []).Add(Offset);

        public void Withdrew(string key) => (_withdrew ??= []).Add(Offset);

        public UserWorkResult Result(string key, long due, EntityWrite? write, PoisonRecordException? poison = null, long poisonOffset = -1) =>
            new(key, _outputs, Counters, (attribution?.Deltas as ExperimentDeltaRecorder)?.Take() ?? [], (IReadOnlyList<(long, string)>?)_duplicates ?? [],
                due, Changed, write, (IReadOnlyList<long>?)_erased ?? [], (IReadOnlyList<long>?)_withdrew ?? [], poison, poisonOffset);
    }
}
