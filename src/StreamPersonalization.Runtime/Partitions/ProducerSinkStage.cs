using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using Error = Confluent.Kafka.Error;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>
/// The ingest graph's producer sink: publishes each round's outputs (<see cref="OutputMessages"/>) and tracks their
/// delivery, acknowledging a <see cref="RoundOutputs"/> once the broker acknowledged all of its records, or failing
/// it with the first delivery error (its partition then starts again from its checkpoint). Its materialized value
/// completes when the upstream has completed and every batch has been answered.
/// </summary>
/// <remarks>Back-pressure: at most <c>maxInFlight</c> batches unanswered, and while librdkafka's local queue is full
/// the stage waits (<c>queue.buffering.max.messages</c>) instead of failing.</remarks>
public sealed class ProducerSinkStage : GraphStageWithMaterializedValue<SinkShape<RoundOutputs>, Task>
{
    private readonly IProducer<byte[], byte[]> _producer;
    private readonly OutputTopics _topics;
    private readonly int _maxInFlight;

    /// <param name="producer">Shared, owned by the caller (not disposed here).</param>
    /// <param name="maxInFlight">Batches produced and not yet answered by the broker, ≥ 1.</param>
    public ProducerSinkStage(IProducer<byte[], byte[]> producer, OutputTopics topics, int maxInFlight = 64)
    {
        if (maxInFlight < 1) throw new ArgumentOutOfRangeException(nameof(maxInFlight), maxInFlight, "must be ≥ 1");
        (_producer, _topics, _maxInFlight) = (producer, topics, maxInFlight);
        Shape = new SinkShape<RoundOutputs>(In);
    }

    public Inlet<RoundOutputs> In { get; } = new("ProducerSink.in");

    public override SinkShape<RoundOutputs> Shape { get; }

    public override ILogicAndMaterializedValue<Task> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task>(new Logic(this, done), done.Task);
    }

    public override string ToString() => $"ProducerSink({_topics.SegmentChanges}, {_topics.Sessions}, {_topics.DeadLetter})";

    /// <summary>One batch on its way: its records, how far producing got, and the answers still missing.</summary>
    private sealed class InFlight(RoundOutputs batch, List<(string Topic, Message<byte[], byte[]> Message)> messages)
    {
        public readonly RoundOutputs Batch = batch;
        public readonly List<(string Topic, Message<byte[], byte[]> Message)> Messages = messages;
        public int Next;
        public int Missing = messages.Count;
        public Error? FirstError;
    }

    private sealed class Logic : TimerGraphStageLogic
    {
        private static readonly TimeSpan QueueFullWait = TimeSpan.FromMilliseconds(10);
        private readonly ProducerSinkStage _stage;
        private readonly TaskCompletionSource _done;
        private Action<InFlight> _answered = null!;
        private InFlight? _waitingForRoom;
        private int _inFlight;
        private bool _upstreamDone;

        public Logic(ProducerSinkStage stage, TaskCompletionSource done) : base(stage.Shape)
        {
            (_stage, _done) = (stage, done);
            // Keep going once the inlet closes: batches still in flight must be answered.
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: () => { _upstreamDone = true; SetKeepGoing(true); MaybeFinish(); },
                onUpstreamFailure: e => { _done.TrySetException(e); FailStage(e); });
        }

        public override void PreStart()
        {
            _answered = GetAsyncCallback<InFlight>(Answered);
            Pull(_stage.In);
        }

        private void OnPush()
        {
            var batch = Grab(_stage.In);
            var messages = new List<(string, Message<byte[], byte[]>)>(batch.Outputs.Count);
            foreach (var output in batch.Outputs) OutputMessages.Add(output, _stage._topics, messages);
            if (messages.Count == 0) { batch.Acknowledge(); MaybePull(); return; }
            _inFlight++;
            Produce(new InFlight(batch, messages));
            MaybePull();
        }

        private void Produce(InFlight f)
        {
            for (; f.Next < f.Messages.Count; f.Next++)
            {
                var (topic, message) = f.Messages[f.Next];
                try
                {
                    _stage._producer.Produce(topic, message, report => Reported(f, report.Error));
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    _waitingForRoom = f;   // back-pressure from the broker: try again shortly, pull nothing meanwhile
                    ScheduleOnce("room", QueueFullWait);
                    return;
                }
                catch (KafkaException e)
                {
                    Reported(f, e.Error);   // never queued: counts as answered, with its error
                }
            }
        }

        // librdkafka's delivery thread (or the stage's, for a local error).
        private void Reported(InFlight f, Error error)
        {
            if (error.IsError) Interlocked.CompareExchange(ref f.FirstError, error, null);
            if (Interlocked.Decrement(ref f.Missing) == 0) _answered(f);
        }

        protected override void OnTimer(object timerKey)
        {
            if (_waitingForRoom is not { } f) return;
            _waitingForRoom = null;
            Produce(f);
            MaybePull();
        }

        private void Answered(InFlight f)
        {
            _inFlight--;
            if (f.FirstError is { } error)
            {
                Log.Warning("Outputs of partition {0} (epoch {1:x}, {2} records) not delivered: {3} ({4}); the partition starts again from its checkpoint",
                    f.Batch.Partition, f.Batch.Epoch, f.Messages.Count, error.Reason, error.Code);
                f.Batch.Fail(new OutputDeliveryException($"An output of partition {f.Batch.Partition} could not be delivered: {error.Reason} ({error.Code}).", new KafkaException(error)));
            }
            else f.Batch.Acknowledge();
            MaybePull();
            MaybeFinish();
        }

        private void MaybePull()
        {
            if (_waitingForRoom is null && _inFlight < _stage._maxInFlight && !HasBeenPulled(_stage.In) && !IsClosed(_stage.In)) Pull(_stage.In);
        }

        private void MaybeFinish()
        {
            if (!_upstreamDone || _inFlight > 0) return;
            _done.TrySetResult();
            CompleteStage();
        }

        public override void PostStop() =>
            _done.TrySetException(new AbruptStageTerminationException(this));
    }
}
