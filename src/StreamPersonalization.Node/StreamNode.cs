using Akka.Actor;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Runtime;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Node;

/// <summary>
/// One node of the user stage on the Akka runtime: the node's <c>user</c> shard region (one actor per user) and its
/// ingest graph (<see cref="UserIngestGraph"/>: Kafka source, partition rounds with checkpoints, producer sink), plus the
/// outbox relay that publishes the experiment deltas the checkpoints wrote. Each partition the consumer group assigns
/// starts from the store's checkpoint and places its user shard on this node; a revoke drains it and takes its last
/// checkpoint before the group may hand it over.
/// </summary>
public sealed class StreamNode : Http.ILiveUserState, IAsyncDisposable
{
    private readonly NodeOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly ShardOptions _shardOptions;
    private readonly SegmentCatalog _catalog;
    private readonly ICheckpointStore _store;
    private readonly IKafkaClientFactory _clients;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggers;
    private readonly ExperimentCatalog? _experiments;
    private readonly Core.Experiments.Alerts.DataQualityOptions? _dataQuality;
    private readonly PartitionBoard _board = new();
    private readonly ResidentUsers _resident = new();
    private volatile UserIngest? _ingest;
    private volatile IActorRef? _users;
    private volatile bool _consuming;
    private volatile bool _hadFailures;
    private volatile IProducer<byte[], byte[]>? _producer;
    private int _partitionCount;   // of the clickstream topic, read once from the metadata
    private long _stoppedUsersLogged;

    /// <param name="experiments">Experiments whose exposures and conversions are attributed (null: none).</param>
    public StreamNode(NodeOptions options, KafkaOptions kafka, ShardOptions shardOptions, SegmentCatalog catalog,
        ICheckpointStore store, IKafkaClientFactory clients, ILoggerFactory loggers,
        ExperimentCatalog? experiments = null, Core.Experiments.Alerts.DataQualityOptions? dataQuality = null)
    {
        _dataQuality = dataQuality;
        _experiments = experiments;
        _options = options.Validate();
        _kafka = kafka;
        _shardOptions = shardOptions.Validate();
        _catalog = catalog;
        _store = store;
        _clients = clients;
        _loggers = loggers;
        _log = loggers.CreateLogger<StreamNode>();
    }

    /// <summary>The experiment catalog in force (file + admin definitions), read by every user actor per event; set before <see cref="RunAsync"/>.</summary>
    public Func<ExperimentCatalog>? CurrentExperiments { get; init; }

    /// <summary>The node's ActorSystem, a member of its cluster (<c>sp run</c>: the node's runtime). Null: the node runs
    /// a private one-node cluster of its own (tests, benchmarks), from <see cref="PrivateAkka"/>.</summary>
    public ActorSystem? System { get; init; }

    /// <summary>Where a private one-node cluster's HOCON comes from (used only without <see cref="System"/>).</summary>
    /// <value>Default: <c>hocon/</c> of the working directory, environment "development", remoting on 127.0.0.1, any free port.</value>
    public AkkaOptions PrivateAkka { get; init; } = new();

    /// <summary>The partitions this node runs now.</summary>
    public IReadOnlyCollection<PartitionStatus> Shards => _board.Partitions;

    /// <summary>The node's <c>user</c> shard region once running (explanations ask users through it).</summary>
    public IActorRef? Users => _users;

    /// <summary>User actors resident on this node.</summary>
    public long ResidentUsers => _resident.Count;

    /// <summary>True while the node is in the group and every partition its consumer owns is running here, evaluated
    /// when read (a partition just assigned and not yet loaded makes it unready).</summary>
    public bool Ready
    {
        get
        {
            if (!_consuming || _ingest is not { Source.Joined: true } ingest) return false;
            var running = _board.Partitions.Where(p => p.State == PartitionState.Running).Select(p => p.Partition).ToHashSet();
            return ingest.Source.Owned.All(running.Contains) && _board.Partitions.All(p => p.State == PartitionState.Running);
        }
    }

    /// <summary>Partitions that cannot make progress (their data fell off the log, or fenced while still assigned).</summary>
    public int FailedShards => _board.Partitions.Count(p => p.State == PartitionState.Failed);

    /// <summary>True once a partition restarted after a failure or cannot progress, the graph failed, or the producer
    /// failed fatally (exit code 3).</summary>
    public bool HadFailures => _hadFailures || _board.Restarts > 0 || _board.Failures > 0;

    /// <summary>Offsets that fell off the log and were skipped under the Earliest policy.</summary>
    public long DataLossEvents => _ingest?.Source.DataLossEvents ?? 0;

    /// <summary>Runs until <paramref name="ct"/> is cancelled (or the graph stops by itself), then drains: every partition
    /// takes its last checkpoint and is revoked, the consumer leaves the group.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await _store.InitializeAsync(ct).ConfigureAwait(false);
        await using var own = System is null ? await StartPrivateClusterAsync().ConfigureAwait(false) : null;
        var system = System ?? own!.System;
        using var fatal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = _clients.CreateProducer($"{_options.NodeId}-out", e =>
        {
            if (!e.IsFatal) return;
            // A fatal idempotent-producer error makes every later Produce fail: stop rather than restart partitions forever.
            _hadFailures = true;
            _log.LogCritical("Fatal producer error {Code}: {Reason}; the node stops (restart it: state resumes from the checkpoints)", e.Code, e.Reason);
            fatal.Cancel();
        });
        _producer = producer;
        try
        {
            var experiments = CurrentExperiments ?? (_experiments is { } fixedCatalog ? () => fixedCatalog : null);
            _users = await UserSharding.StartAsync(system, new UserActorSettings(new UserProcessor(_shardOptions, _catalog), experiments,
                new CheckpointStoreUserStateLoader(_store), _options.PassivateAfter, Resident: _resident)).ConfigureAwait(false);
            var ingest = UserIngestGraph.Run(system, Settings(producer, _users, system, attributed: experiments is not null));
            _ingest = ingest;
            await RelayWhileRunningAsync(ingest, producer, fatal.Token).ConfigureAwait(false);
        }
        finally
        {
            _consuming = false;
            _users = null;
            _producer = null;
            try { producer.Flush(_options.ShutdownTimeout); } catch (KafkaException ex) { _log.LogWarning(ex, "Producer flush failed"); }
            producer.Dispose();
        }
    }

    private UserIngestSettings Settings(IProducer<byte[], byte[]> producer, IActorRef users, ActorSystem system, bool attributed) =>
        new(_clients.ConsumerConfig(_options.NodeId, _options.GroupId, staticMember: true), _kafka.ClickstreamTopic,
            new OutputTopics(_kafka.SessionsTopic, _kafka.SegmentChangesTopic, _kafka.DeadLetterTopic), producer, _store,
            // A user whose state cannot be read is asked again after 100 ms doubling to 5 s (the store's back-off); a
            // round whose users stay silent for 15 s (messages a shard hand-off dropped) is replayed from the checkpoint.
            new UserRoundClient(system, users, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5)),
            p => new PartitionRounds(p, _shardOptions, attributed))
        {
            Source = new KafkaSourceOptions
            {
                MaxBufferedPerPartition = _options.ShardQueueCapacity,
                HoldUntilReleased = true,   // a partition is paused at its capacity counting what its rounds have not taken
                OnOffsetOutOfRange = _options.OnOffsetOutOfRange,
                RevokeTimeout = _options.ShutdownTimeout,
            },
            Partitions = new PartitionRoundsOptions
            {
                Scope = Scope,
                CheckpointInterval = _options.CheckpointInterval,
                CheckpointMaxRecords = _options.CheckpointMaxRecords,
                MaxRoundRecords = Math.Min(5_000, _options.CheckpointMaxRecords),
                ExperimentStatsTopic = _kafka.ExperimentStatsTopic,
                DataQuality = _dataQuality,
            },
            AlertsTopic = _kafka.AlertsTopic,
            Board = _board,
            Assigned = p => _log.LogInformation("Node {NodeId} assigned partitions [{Partition}]", _options.NodeId, p),
            Stopped = s => _log.LogInformation("Shard {Partition} stopped at offset {Offset} ({Checkpoint})", s.Partition, s.CommittedOffset ?? 0,
                s.CommittedOffset is null ? "no checkpoint yet" : "its last checkpoint"),
            Committed = (p, next) =>
            {
                if (!_log.IsEnabled(LogLevel.Debug)) return;
                var stopped = _resident.Stopped;
                _log.LogDebug("Partition {Partition} checkpointed offset {Offset}; passivated {Passivated}", p, next, stopped - Interlocked.Exchange(ref _stoppedUsersLogged, stopped));
            },
        };

    /// <summary>The store scope of user rows, checkpoints, timers and the outbox.</summary>
    public const string Scope = CheckpointStoreUserStateLoader.Scope;

    /// <summary>Publishes outbox rows while the graph runs; on stop, drains the graph and publishes what its last checkpoints wrote.</summary>
    private async Task RelayWhileRunningAsync(UserIngest ingest, IProducer<byte[], byte[]> producer, CancellationToken stop)
    {
        var relay = new OutboxRelay(_store, Scope, producer, () => _board.Partitions.Select(p => p.Partition).ToArray(), _loggers.CreateLogger<OutboxRelay>());
        using var relayStop = new CancellationTokenSource();
        var relaying = relay.RunAsync(TimeSpan.FromMilliseconds(200), relayStop.Token);
        _log.LogInformation("Node {NodeId} joined group {Group} on {Topic}", _options.NodeId, _options.GroupId, _kafka.ClickstreamTopic);
        _consuming = true;
        var owned = Array.Empty<int>();
        try
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var _ = stop.Register(() => stopped.TrySetResult());
            await Task.WhenAny(ingest.Completion, stopped.Task).ConfigureAwait(false);
            _consuming = false;
            owned = [.. _board.Partitions.Select(p => p.Partition)];
            _log.LogInformation("Node {NodeId} draining partitions [{Partitions}]", _options.NodeId, string.Join(",", owned.Order()));
            await ingest.DrainAsync().WaitAsync(_options.ShutdownTimeout + TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The graph failed (a fatal consumer error: e.g. another process runs with this node id) or did not drain in
            // time: what was not checkpointed is replayed by the next owner.
            _hadFailures = true;
            _log.LogError(ex, "Node {NodeId}: the ingest graph stopped without draining cleanly; the next owners replay from the last checkpoints", _options.NodeId);
        }
        finally
        {
            relayStop.Cancel();
            try { await relaying.ConfigureAwait(false); } catch (OperationCanceledException) { }
            // The final checkpoints just wrote outbox rows: publish them now rather than leave them to the next owner.
            try { await relay.PublishOnceAsync(owned, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception ex) { _log.LogWarning(ex, "Final outbox publication failed; the next owner publishes the rows"); }
            _log.LogInformation("Node {NodeId} left group {Group}", _options.NodeId, _options.GroupId);
        }
    }

    /// <summary>How long an explanation waits for the user's actor before it reads the committed row.</summary>
    public static readonly TimeSpan LiveStateTimeout = TimeSpan.FromSeconds(2);

    public async Task<UserStateReply?> FindAsync(string userId, string key, CancellationToken ct)
    {
        if (_users is not { } region || PartitionCount() is not { } partitions) return null;
        var partition = KeyPartitioner.PartitionOf(userId, partitions);
        try
        {
            var reply = await new UserStateQuery(region, LiveStateTimeout).AskAsync(partition, key, ct).ConfigureAwait(false);
            return reply.Resident ? reply : null;
        }
        catch (AskTimeoutException)
        {
            return null;   // the shard is moving or its node is unreachable: the checkpoint answers
        }
    }

    /// <summary>The clickstream topic's partition count (the producer's murmur2 spreads keys over it), from the metadata.</summary>
    private int? PartitionCount()
    {
        if (Volatile.Read(ref _partitionCount) is > 0 and var known) return known;
        if (_producer is not { } producer) return null;
        try
        {
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var count = admin.GetMetadata(_kafka.ClickstreamTopic, TimeSpan.FromSeconds(2)).Topics.SingleOrDefault()?.Partitions.Count ?? 0;
            if (count == 0) return null;
            Volatile.Write(ref _partitionCount, count);
            return count;
        }
        catch (Exception e) when (e is KafkaException or ObjectDisposedException)
        {
            return null;   // the broker did not answer, or the node is stopping: the checkpoint answers
        }
    }

    private Task<NodeRuntime> StartPrivateClusterAsync() =>
        NodeRuntime.StartAsync(PrivateAkka, _options.NodeId,
            () => new Runtime.Cluster.LocalNodeState(Ready, [.. _board.Partitions.Select(p => p.Partition).Order()], _resident.Count),
            new Dictionary<string, string>
            {
                ["akka.remote.dot-netty.tcp.hostname"] = "127.0.0.1",
                ["akka.remote.dot-netty.tcp.port"] = "0",
                ["akka.cluster.seed-nodes"] = "",
            });

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
