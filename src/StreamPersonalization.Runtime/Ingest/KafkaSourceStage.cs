using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;

namespace StreamPersonalization.Runtime.Ingest;

/// <summary>Controls a running <see cref="KafkaSourceStage"/> (its materialized value).</summary>
public sealed class KafkaSourceControl
{
    private KafkaPollLoop? _loop;
    private readonly TaskCompletionSource<KafkaPollLoop> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void Attach(KafkaPollLoop loop) { _loop = loop; _started.TrySetResult(loop); }

    /// <summary>Stops fetching and closes the consumer while the stream runs on: every owned partition is revoked (and
    /// waits for its acknowledgement), then the source completes. Completes when the consumer is closed.</summary>
    public async Task DrainAsync()
    {
        var loop = await _started.Task.ConfigureAwait(false);
        loop.Drain();
        await loop.Finished.ConfigureAwait(false);
    }

    /// <summary>The consumer has an assignment from the group (possibly empty) and has not lost it since.</summary>
    public bool Joined => _loop?.Joined ?? false;

    /// <summary>Offsets that fell off the log and were skipped under <see cref="OffsetOutOfRangePolicy.Earliest"/>.</summary>
    public long DataLossEvents => _loop?.DataLossEvents ?? 0;

    /// <summary>Hands a checkpointed next offset to the consumer's background commit (lag monitoring only).</summary>
    public void StoreOffset(int partition, long next) => _loop?.StoreOffset(partition, next);

    /// <summary>Partitions the consumer owns right now (empty before the stage starts).</summary>
    public IReadOnlyList<int> Owned => _loop?.Owned ?? [];

    /// <summary>Partitions paused for back-pressure right now (empty before the stage starts).</summary>
    public IReadOnlyList<int> Paused => _loop?.Paused ?? [];

    /// <summary>Assignments, revokes and losses queued and not yet emitted (tests wait on it).</summary>
    internal int QueuedControlEvents => _loop?.Control.Count ?? 0;

    /// <summary>Records of <paramref name="partition"/> fetched and not yet emitted.</summary>
    public int BufferedRecords(int partition) => _loop?.BufferedRecords(partition) ?? 0;
}

/// <summary>
/// A source of one topic's <see cref="PartitionEvent"/>s for a consumer-group member: assignments with the start offset
/// the node's checkpoint gives, record batches per partition, and revokes that wait for the last checkpoint. The
/// consumer runs on its own thread (<see cref="KafkaPollLoop"/>); this stage only moves its events downstream on
/// demand. Downstream that stops pulling pauses the partitions it holds up; under
/// <see cref="KafkaSourceOptions.HoldUntilReleased"/> so does downstream that holds a partition's records unreleased.
/// </summary>
public sealed class KafkaSourceStage : GraphStageWithMaterializedValue<SourceShape<PartitionEvent>, KafkaSourceControl>
{
    private readonly ConsumerConfig _config;
    private readonly string _topic;
    private readonly KafkaSourceOptions _options;
    private readonly Func<int, long?> _startOffset;

    /// <param name="startOffset">A partition's checkpointed next offset (null: from the beginning); called on the
    /// consumer's thread during a rebalance.</param>
    public KafkaSourceStage(ConsumerConfig config, string topic, Func<int, long?> startOffset, KafkaSourceOptions? options = null)
    {
        (_config, _topic, _startOffset, _options) = (config, topic, startOffset, (options ?? new KafkaSourceOptions()).Validate());
        Shape = new SourceShape<PartitionEvent>(Out);
    }

    public Outlet<PartitionEvent> Out { get; } = new("KafkaSource.out");

    public override SourceShape<PartitionEvent> Shape { get; }

    public override ILogicAndMaterializedValue<KafkaSourceControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var control = new KafkaSourceControl();
        return new LogicAndMaterializedValue<KafkaSourceControl>(new Logic(this, control), control);
    }

    public override string ToString() => $"KafkaSource({_topic})";

    private sealed class Logic : GraphStageLogic
    {
        private readonly KafkaSourceStage _stage;
        private readonly KafkaSourceControl _control;
        private KafkaPollLoop? _loop;

        public Logic(KafkaSourceStage stage, KafkaSourceControl control) : base(stage.Shape)
        {
            (_stage, _control) = (stage, control);
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => { _loop?.Abandon(); CompleteStage(); });
        }

        public override void PreStart()
        {
            var wake = GetAsyncCallback(TryPush);
            var warn = GetAsyncCallback<string>(m => Log.Warning(m));
            _loop = new KafkaPollLoop(_stage._config, _stage._topic, _stage._options, _stage._startOffset, wake, warn);
            _control.Attach(_loop);
            _loop.Start();
        }

        public override void PostStop() => _loop?.Abandon();

        private void TryPush()
        {
            if (!IsAvailable(_stage.Out)) return;
            var loop = _loop!;
            if (loop.Control.TryDequeue(out var next))
            {
                switch (next)
                {
                    case PartitionEvent e: Push(_stage.Out, e); break;
                    case Exception error: FailStage(error); break;
                    default: CompleteStage(); break;
                }
                return;
            }
            while (loop.Records.TryDequeue(out var records))
            {
                if (!loop.IsCurrent(records))
                {
                    loop.Taken(records.Partition, records.Records.Count);   // its partition was revoked or lost after it was fetched
                    continue;
                }
                if (records.Releaser is null) loop.Taken(records.Partition, records.Records.Count);   // else downstream releases them
                Push(_stage.Out, records);
                return;
            }
        }
    }
}
