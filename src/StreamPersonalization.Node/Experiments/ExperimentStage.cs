using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// The experiment stage: consumer group <see cref="NodeOptions.ExperimentsGroupId"/> on <c>experiment-stats</c>.
/// Each owned partition's experiment entities apply deltas exactly once per range; every
/// <see cref="ExperimentOptions.SnapshotInterval"/> the changed experiments get a snapshot (posteriors, tests,
/// SRM, …) published to <c>experiment-state</c> (keyed by experiment id, so a compacted topic keeps the
/// latest), then their state and the partition offset are committed in one transaction (so the stage
/// checkpoints at the snapshot cadence; a crash re-reads at most one interval, and ranges apply once). Delta volume is
/// one record per experiment per user-shard checkpoint, so one thread serves all partitions.
/// </summary>
/// <remarks>
/// Detectors run at every snapshot: the experiment's <see cref="AlertBook"/> (checkpointed with its state) reports
/// only changes (raised, escalated, resolved), which go to <c>alerts</c> keyed by alert key with the alert id as
/// record id; the snapshot lists the alerts currently raised. Alerts are evaluated on a copy of the state and produced
/// before the checkpoint commits; the copy is adopted only after the commit, so a failed flush, a failed commit or a
/// crash publishes them again with the same id (downstream de-duplicates by id), never loses them.
/// </remarks>
public sealed class ExperimentStage(NodeOptions options, ExperimentOptions experiments, KafkaOptions kafka, ExperimentCatalogSource catalog,
    ICheckpointStore store, IKafkaClientFactory clients, ILoggerFactory loggers, DetectorOptions? detectors = null)
{
    private readonly ILogger _log = loggers.CreateLogger<ExperimentStage>();
    private readonly Dictionary<int, ExperimentPartition> _partitions = new();
    private readonly Shards.RetryBackoff _backoff = new();

    /// <summary>Snapshots published so far.</summary>
    public long SnapshotsPublished { get; private set; }

    /// <summary>Alert changes published so far.</summary>
    public long AlertsPublished { get; private set; }

    public Task RunAsync(CancellationToken ct) => Task.Factory.StartNew(() => Loop(ct), TaskCreationOptions.LongRunning);

    private void Loop(CancellationToken ct)
    {
        using var producer = clients.CreateProducer($"{options.NodeId}-experiments");
        using var consumer = clients.CreateConsumerBuilder($"{options.NodeId}-experiments", options.ExperimentsGroupId, staticMember: true)
            .SetPartitionsAssignedHandler((_, parts) => parts.Select(Assign).ToList())
            .SetPartitionsRevokedHandler((_, parts) => { foreach (var p in parts) Revoke(p.Partition.Value, producer); })
            .SetPartitionsLostHandler((_, parts) => { foreach (var p in parts) _partitions.Remove(p.Partition.Value); })
            .Build();
        consumer.Subscribe(kafka.ExperimentStatsTopic);
        var lastCheckpoint = Stopwatch.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record is not null && _partitions.TryGetValue(record.Partition.Value, out var partition))
                {
                    var delta = ExperimentDelta.FromBytes(record.Message.Value);
                    WithStoreRetries(() => partition.Apply(record.Offset.Value, delta), $"applying {record.Partition.Value}@{record.Offset.Value}", ct);
                }
                if (Stopwatch.GetElapsedTime(lastCheckpoint) < experiments.SnapshotInterval) continue;
                foreach (var p in _partitions.Values.ToList())
                {
                    try { WithStoreRetries(() => Checkpoint(p, producer), $"checkpointing partition {p.Partition}", ct); }
                    catch (CheckpointConflictException e) { Refence(consumer, p.Partition, e); }
                }
                lastCheckpoint = Stopwatch.GetTimestamp();
            }
        }
        finally
        {
            consumer.Close();   // revokes: every partition checkpoints
            producer.Flush(options.ShutdownTimeout);
        }
    }

    /// <summary>
    /// Runs a step that reads or writes the store, retrying with bounded back-off while the store fails (a database
    /// restart): the stage stalls rather than skipping a delta or dying. A fencing conflict is not retried (another
    /// node owns the partition now) and cancellation ends the wait.
    /// </summary>
    private void WithStoreRetries(Action step, string what, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                step();
                if (attempt > 1) _log.LogInformation("Experiment stage recovered after {Attempts} attempts at {What}", attempt, what);
                return;
            }
            catch (Exception e) when (e is not (CheckpointConflictException or OperationCanceledException) && !ct.IsCancellationRequested)
            {
                var delay = _backoff.Delay(attempt);
                _log.LogWarning("Experiment stage: {What} failed ({Error}); retry {Attempt} in {Delay} ms", what, e.Message, attempt, (long)delay.TotalMilliseconds);
                ct.WaitHandle.WaitOne(delay);
            }
        }
    }

    private TopicPartitionOffset Assign(TopicPartition tp)
    {
        var checkpoint = store.LoadCheckpointAsync(ExperimentPartition.Scope, tp.Partition.Value).GetAwaiter().GetResult();
        _partitions[tp.Partition.Value] = new ExperimentPartition(tp.Partition.Value, store, catalog, checkpoint?.NextOffset);
        return new TopicPartitionOffset(tp, checkpoint is null ? Offset.Beginning : new Offset(checkpoint.NextOffset));
    }

    private void Revoke(int partition, IProducer<byte[], byte[]> producer)
    {
        if (!_partitions.Remove(partition, out var p)) return;
        try { Checkpoint(p, producer); }
        catch (CheckpointConflictException e)
        {
            // Another node committed this partition after we loaded it (we were frozen or cut off): its checkpoint stands.
            _log.LogWarning("Experiments partition {Partition}: final checkpoint fenced ({Error}); the current owner's checkpoint stands", partition, e.Message);
        }
    }

    /// <summary>Another stage committed this partition since we loaded it (a node that was frozen or cut off while
    /// still assigned): drop what we hold and continue from the stored checkpoint, as a newly assigned partition.</summary>
    private void Refence(IConsumer<byte[], byte[]> consumer, int partition, CheckpointConflictException e)
    {
        var tp = new TopicPartition(kafka.ExperimentStatsTopic, partition);
        var resumeAt = Assign(tp);
        consumer.Seek(resumeAt);
        _log.LogWarning("Experiments partition {Partition}: checkpoint fenced ({Error}); reloaded and resumed from {Offset}", partition, e.Message, resumeAt.Offset);
    }

    /// <summary>Snapshots of changed experiments published and acknowledged, then state + offset committed.</summary>
    private void Checkpoint(ExperimentPartition p, IProducer<byte[], byte[]> producer)
    {
        if (p.Dirty.Count == 0 && p.StoredOffset == p.CheckpointOffset) return;
        var evaluated = new SortedDictionary<string, ExperimentState>(StringComparer.Ordinal);
        foreach (var id in p.Dirty.OrderBy(x => x, StringComparer.Ordinal))
        {
            // On a copy: if the flush or commit below fails, the retry finds the alert book as it was and re-sends the changes.
            var state = p.State(id).Copy();
            // Seeded by experiment and version: a replayed snapshot is identical.
            var definition = catalog.Current[id];
            var shape = ExperimentShape.From(definition);
            var evaluation = state.EvaluateAlerts(SnapshotCalculator.Compute(state, shape, Seed(id, state.Sequence)), shape, AlertPolicy.From(definition), detectors);
            producer.Produce(kafka.ExperimentStateTopic, new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes(id),
                Value = SnapshotJson.ToUtf8(evaluation.Snapshot),
                Headers = new Headers { { StreamPersonalization.Kafka.OutputMessages.RecordIdHeader, Encoding.UTF8.GetBytes($"{id}/{state.Sequence}") } },
            });
            foreach (var alert in evaluation.Changes)
            {
                producer.Produce(kafka.AlertsTopic, new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(alert.Key),
                    Value = AlertJson.ToUtf8(alert),
                    Headers = new Headers { { StreamPersonalization.Kafka.OutputMessages.RecordIdHeader, Encoding.UTF8.GetBytes(alert.Id) } },
                });
                _log.Log(alert.Severity == AlertSeverity.Critical ? LogLevel.Warning : LogLevel.Information, "Alert {AlertId}: {Message}", alert.Id, alert.Message);
                AlertsPublished++;
            }
            evaluated[id] = state;
            SnapshotsPublished++;
        }
        if (producer.Flush(options.ShutdownTimeout) > 0) throw new TimeoutException("experiment snapshots not acknowledged; the checkpoint is not committed");
        p.Commit(evaluated);
        _log.LogDebug("Experiments partition {Partition} checkpointed at {Offset}: {Count} snapshots", p.Partition, p.StoredOffset, evaluated.Count);
    }

    private static ulong Seed(string experimentId, long version)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{experimentId}:{version}"));
        return BitConverter.ToUInt64(hash, 0);
    }
}
