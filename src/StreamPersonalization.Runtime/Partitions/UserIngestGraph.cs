using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>What a node's user ingest graph needs.</summary>
/// <param name="Consumer">The clickstream consumer (group, static membership, cooperative-sticky).</param>
/// <param name="Topic">The clickstream topic.</param>
/// <param name="Outputs">Where sessions, segment changes and dead letters go.</param>
/// <param name="Producer">The node's output producer (owned by the caller).</param>
/// <param name="Store">The state store (checkpoints, user rows, timers, outbox).</param>
/// <param name="Users">Where rounds go (the <c>user</c> region through a <see cref="UserRoundClient"/>).</param>
/// <param name="Rounds">A fresh partition for each assignment (the node's shard options and experiment attribution).</param>
public sealed record UserIngestSettings(ConsumerConfig Consumer, string Topic, OutputTopics Outputs, IProducer<byte[], byte[]> Producer, ICheckpointStore Store,
    IUserRounds Users, Func<int, PartitionRounds> Rounds)
{
    /// <summary>The consumer's settings.</summary>
    /// <value>Default: <see cref="KafkaSourceOptions"/>'s defaults with <see cref="KafkaSourceOptions.HoldUntilReleased"/>
    /// on (the rounds stage releases each record as a round takes it, so each partition is paused on its own backlog).</value>
    public KafkaSourceOptions Source { get; init; } = new() { HoldUntilReleased = true };

    public PartitionRoundsOptions Partitions { get; init; } = new();

    /// <summary>Output batches produced and not yet acknowledged by the broker.</summary>
    /// <value>Batches, ≥ 1. Default 64.</value>
    public int MaxOutputsInFlight { get; init; } = 64;

    /// <summary>Told each partition's committed next offset (metrics, readiness, tests).</summary>
    public Action<int, long>? Committed { get; init; }

    /// <summary>Where data-quality alerts go (null: not published).</summary>
    /// <value>Default null; the node sets its <c>Kafka:AlertsTopic</c>.</value>
    public string? AlertsTopic { get; init; }

    /// <summary>Told each partition assigned to this node, before its checkpoint loads.</summary>
    public Action<int>? Assigned { get; init; }

    /// <summary>Where each running partition shows its <see cref="PartitionStatus"/> (null: not shown).</summary>
    public PartitionBoard? Board { get; init; }

    /// <summary>Told each partition that stopped on this node (revoked after its last checkpoint, lost, fenced, given up).</summary>
    public Action<PartitionStatus>? Stopped { get; init; }
}

/// <summary>A running user ingest graph.</summary>
public sealed class UserIngest(KafkaSourceControl control, Task completion)
{
    public KafkaSourceControl Source => control;

    /// <summary>Completes when the graph has stopped: drained (every partition checkpointed and revoked) or failed.</summary>
    public Task Completion => completion;

    /// <summary>Stops consuming: every partition finishes what it holds, takes its last checkpoint and is revoked;
    /// completes when the graph has stopped.</summary>
    public async Task DrainAsync()
    {
        await control.DrainAsync().ConfigureAwait(false);
        await completion.ConfigureAwait(false);
    }
}

/// <summary>
/// The node's user ingest graph: <see cref="KafkaSourceStage"/> (one consumer, partition events) ─▶
/// <see cref="PartitionRoundsStage"/> (rounds to the user actors, checkpoints) ─▶ <see cref="ProducerSinkStage"/>
/// (outputs, acknowledged by the broker before the checkpoint that covers them). Fused: one actor runs the three
/// stages; the users run in their actors, the consumer on its own thread.
/// </summary>
public static class UserIngestGraph
{
    public static UserIngest Run(ActorSystem system, UserIngestSettings settings)
    {
        var log = Logging.GetLogger(system, typeof(UserIngestGraph));
        var scope = settings.Partitions.Scope;
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        // Called on the consumer's thread while it is assigned partitions: the checkpoint decides where reading starts.
        // If the store does not answer, reading starts at the beginning: the partition skips what its checkpoint
        // covers (slower, never wrong), rather than failing the consumer for every partition.
        long? StartOffset(int partition)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return settings.Store.LoadCheckpointAsync(scope, partition).GetAwaiter().GetResult()?.NextOffset;
                }
                catch (Exception e) when (attempt < 3)
                {
                    log.Warning("Partition {0}: checkpoint offset not read ({1}); attempt {2} of 3", partition, e.GetBaseException().Message, attempt);
                    Thread.Sleep(200 * attempt);
                }
                catch (Exception e)
                {
                    log.Error(e, "Partition {0}: checkpoint offset not read; reading it from the beginning (its checkpoint still decides what is processed)", partition);
                    return null;
                }
            }
        }

        void Place(int partition)
        {
            settings.Assigned?.Invoke(partition);
            UserSharding.PlaceAsync(system, partition, self).ContinueWith(t =>
            {
                // Not fatal: the shard stays where it is and rounds reach it over remoting until the next placement.
                if (t.Exception is { } e) log.Warning("Partition {0}: user shard not placed on {1} ({2})", partition, self, e.GetBaseException().Message);
            }, TaskScheduler.Default);
        }

        var source = new KafkaSourceStage(settings.Consumer, settings.Topic, StartOffset, settings.Source);
        // Alerts are not covered by the checkpoint (as before): sent as they are raised, keyed by alert, id as record id.
        void Alert(int partition, Core.Experiments.Alerts.Alert alert)
        {
            if (settings.AlertsTopic is not { } topic) return;
            try
            {
                settings.Producer.Produce(topic, new Message<byte[], byte[]>
                {
                    Key = System.Text.Encoding.UTF8.GetBytes(alert.Key),
                    Value = Core.Experiments.Alerts.AlertJson.ToUtf8(alert),
                    Headers = new Headers { { OutputMessages.RecordIdHeader, System.Text.Encoding.UTF8.GetBytes(alert.Id) } },
                }, report =>
                {
                    if (report.Error.IsError) log.Warning("Data-quality alert {0} of partition {1} not delivered: {2}", alert.Id, partition, report.Error.Reason);
                });
            }
            catch (KafkaException e)
            {
                // A full local queue included: the alert is raised again at a later checkpoint while the ratio stays bad.
                log.Warning("Data-quality alert {0} of partition {1} not sent: {2}", alert.Id, partition, e.Error.Reason);
            }
        }

        KafkaSourceControl? sourceControl = null;   // set right after materialization (a commit before it misses one lag update)
        void Committed(int partition, long next)
        {
            sourceControl?.StoreOffset(partition, next);   // Kafka's committed offsets follow the checkpoints (lag monitoring)
            settings.Committed?.Invoke(partition, next);
        }

        var rounds = new PartitionRoundsStage(settings.Topic, settings.Rounds, settings.Store, settings.Users, settings.Partitions,
            committed: Committed, assigned: Place, alerts: Alert, board: settings.Board, stopped: settings.Stopped);
        var sink = new ProducerSinkStage(settings.Producer, settings.Outputs, settings.MaxOutputsInFlight);
        var (control, done) = Source.FromGraph(source).Via(rounds).ToMaterialized(Sink.FromGraph(sink), Keep.Both).Run(system.Materializer());
        sourceControl = control;
        return new UserIngest(control, done);
    }
}
