using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Ingest;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>
/// The ingest graph's user stage: takes <see cref="KafkaSourceStage"/>'s partition events, runs each assigned
/// partition as a <see cref="PartitionDriver"/> (rounds to its user actors, checkpoints after the outputs are
/// acknowledged, the last checkpoint before a revoke is acknowledged) and emits each round's outputs for the producer
/// sink. Partitions run concurrently, each one round at a time.
/// </summary>
/// <remarks>Back-pressure: each partition releases its records to the source as its rounds take them (or as it drops
/// them), so under <see cref="KafkaSourceOptions.HoldUntilReleased"/> the source pauses just the partitions that are
/// behind. The stage stops pulling only at <see cref="PartitionRoundsOptions.MaxQueuedRecords"/> records held in all
/// (a safety cap; with a source that does not hold records until released, the bound), and no round starts while
/// <see cref="PartitionRoundsOptions.MaxPendingOutputs"/> output batches wait for the sink.</remarks>
public sealed class PartitionRoundsStage : GraphStage<FlowShape<PartitionEvent, RoundOutputs>>
{
    private readonly string _topic;
    private readonly Func<int, PartitionRounds> _rounds;
    private readonly ICheckpointStore _store;
    private readonly IUserRounds _users;
    private readonly PartitionRoundsOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<int, long>? _committed;
    private readonly Action<int>? _assigned;
    private readonly Action<int, Core.Experiments.Alerts.Alert>? _alerts;
    private readonly PartitionBoard? _board;
    private readonly Action<PartitionStatus>? _stopped;

    /// <param name="rounds">A fresh <see cref="PartitionRounds"/> for a newly assigned partition.</param>
    /// <param name="committed">Told (on the stage's thread) each partition's committed next offset.</param>
    /// <param name="assigned">Told (on the stage's thread) each newly assigned partition, before its checkpoint loads
    /// (the node places the partition's user shard on itself there).</param>
    /// <param name="alerts">Told (on the stage's thread) each data-quality alert raised at a partition's checkpoint.</param>
    /// <param name="board">Where each running partition's <see cref="PartitionStatus"/> is shown (health, metrics).</param>
    /// <param name="stopped">Told (on the stage's thread) each partition that stopped here: revoked after its last
    /// checkpoint, lost, fenced, or given up.</param>
    public PartitionRoundsStage(string topic, Func<int, PartitionRounds> rounds, ICheckpointStore store, IUserRounds users, PartitionRoundsOptions? options = null,
        TimeProvider? time = null, Action<int, long>? committed = null, Action<int>? assigned = null, Action<int, Core.Experiments.Alerts.Alert>? alerts = null,
        PartitionBoard? board = null, Action<PartitionStatus>? stopped = null)
    {
        (_topic, _rounds, _store, _users, _committed, _assigned, _alerts, _board, _stopped) = (topic, rounds, store, users, committed, assigned, alerts, board, stopped);
        _options = (options ?? new PartitionRoundsOptions()).Validate();
        _time = time ?? TimeProvider.System;
        Shape = new FlowShape<PartitionEvent, RoundOutputs>(In, Out);
    }

    public Inlet<PartitionEvent> In { get; } = new("PartitionRounds.in");

    public Outlet<RoundOutputs> Out { get; } = new("PartitionRounds.out");

    public override FlowShape<PartitionEvent, RoundOutputs> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    public override string ToString() => $"PartitionRounds({_topic})";

    private sealed class Logic : TimerGraphStageLogic
    {
        private readonly PartitionRoundsStage _stage;
        private readonly Dictionary<int, PartitionDriver> _partitions = [];
        private Queue<RoundOutputs> _outgoing = new();
        private readonly HashSet<int> _dropping = [];   // partitions whose records were dropped (warned once)
        private bool _stopping;
        private Action<Action> _post = null!;
        private PartitionDriver.Callbacks _callbacks = null!;
        private bool _upstreamDone;

        public Logic(PartitionRoundsStage stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: () => { _upstreamDone = true; MaybeComplete(); }, onUpstreamFailure: FailStage);
            SetHandler(stage.Out, onPull: OnPull, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            _post = GetAsyncCallback<Action>(action => action());
            _callbacks = new PartitionDriver.Callbacks(Emit, () => _outgoing.Count < _stage._options.MaxPendingOutputs, Finished,
                (d, next) => _stage._committed?.Invoke(d.Partition, next), (d, alert) => _stage._alerts?.Invoke(d.Partition, alert));
            var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(10).Ticks, _stage._options.CheckpointInterval.Ticks / 4));
            ScheduleRepeatedly("checkpoint-interval", tick);
            Pull(_stage.In);
        }

        protected override void OnTimer(object timerKey) => StartRounds();

        private void OnPush()
        {
            var e = Grab(_stage.In);
            _partitions.TryGetValue(e.Partition, out var driver);
            switch (e)
            {
                case PartitionAssigned:
                    _dropping.Remove(e.Partition);
                    driver?.Lose("assigned again before it was revoked");
                    driver = new PartitionDriver(e.Partition, _stage._topic, _stage._rounds(e.Partition), _stage._options, _stage._store, _stage._users,
                        _post, _callbacks, Log, _stage._time);
                    _partitions[e.Partition] = driver;
                    _stage._board?.Add(driver.Status);
                    Log.Info("Partition {0}/{1} assigned: loading its checkpoint", _stage._topic, e.Partition);
                    _stage._assigned?.Invoke(e.Partition);
                    driver.Start();
                    break;
                case PartitionRecords records when driver is not null:
                    driver.Offer(records);
                    break;
                case PartitionRecords records:
                    records.Release(records.Records.Count);
                    // Once per partition: a partition given up while assigned keeps arriving until the group moves it.
                    if (_dropping.Add(e.Partition))
                        Log.Warning("Partition {0}/{1}: {2} not running here; dropped (its owner, or this node once it is assigned again, reads them)", _stage._topic, e.Partition, records);
                    break;
                case PartitionRevoked revoked when driver is not null:
                    driver.Revoke(revoked);
                    break;
                case PartitionRevoked revoked:
                    _stage._board?.Remove(e.Partition);
                    revoked.Acknowledge();
                    break;
                case PartitionLost:
                    driver?.Lose("lost by the consumer");
                    _stage._board?.Remove(e.Partition);
                    break;
                case PartitionDataLost lost:
                    driver?.DataLost(lost.Error);
                    break;
            }
            TryPull();
        }

        private void TryPull()
        {
            if (HasBeenPulled(_stage.In) || IsClosed(_stage.In)) return;
            var queued = 0;
            foreach (var d in _partitions.Values) queued += d.Queued;
            if (queued < _stage._options.MaxQueuedRecords) Pull(_stage.In);
        }

        private void OnPull()
        {
            if (_outgoing.TryDequeue(out var next)) Push(_stage.Out, next);
            StartRounds();
            MaybeComplete();
        }

        private void Emit(RoundOutputs outputs)
        {
            if (IsAvailable(_stage.Out) && _outgoing.Count == 0) Push(_stage.Out, outputs);
            else _outgoing.Enqueue(outputs);
        }

        private void StartRounds()
        {
            foreach (var d in _partitions.Values.ToList()) d.TryStart();
            TryPull();
        }

        private void Finished(PartitionDriver driver)
        {
            if (_partitions.TryGetValue(driver.Partition, out var current) && ReferenceEquals(current, driver)) _partitions.Remove(driver.Partition);
            // Given up while still assigned: shown as failed until the group revokes, loses or reassigns it.
            if (driver.Status.State != PartitionState.Failed || _stopping) _stage._board?.Remove(driver.Status);
            _stage._stopped?.Invoke(driver.Status);
            // Outputs of a partition given up without its checkpoint are the next owner's to publish (after a
            // checkpoint none of its outputs are left here: they were acknowledged before it).
            if (_outgoing.Any(o => o.Partition == driver.Partition))
                _outgoing = new Queue<RoundOutputs>(_outgoing.Where(o => o.Partition != driver.Partition));
            if (_stopping) return;
            TryPull();
            MaybeComplete();
        }

        private void MaybeComplete()
        {
            if (!_stopping && _upstreamDone && _partitions.Count == 0 && _outgoing.Count == 0) CompleteStage();
        }

        public override void PostStop()
        {
            _stopping = true;
            foreach (var d in _partitions.Values.ToList()) d.Lose("the stream stopped");
        }
    }
}
