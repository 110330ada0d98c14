using System.Collections.Concurrent;
using Confluent.Kafka;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Tests.Rounds;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary>
/// A real SQLite checkpoint store that also records each committed batch as a <see cref="RoundsScenario.Store"/>
/// checkpoint (to compare with <see cref="UserShard"/>), and can be made to fail commits.
/// </summary>
internal sealed class RecordingStore(ICheckpointStore inner) : ICheckpointStore
{
    public readonly RoundsScenario.Store Scenario = new();

    /// <summary>Commits that fail (as if the store were down) before the next one goes through.</summary>
    public int FailNextCommits;

    /// <summary>Checked at every commit (the stage must commit only once the outputs are acknowledged).</summary>
    public Func<string?>? BeforeCommit;

    public readonly ConcurrentQueue<string> Violations = new();

    public int Commits, FailedCommits, FailedLoads;

    /// <summary>Whether commits are recorded in <see cref="Scenario"/> (off while a test sets the store up).</summary>
    public bool Recording = true;

    /// <summary>Checkpoint and timer reads that fail (as if the store were down); counts down.</summary>
    public int FailNextLoads;

    private void MaybeFailLoad(string what)
    {
        if (Interlocked.Decrement(ref FailNextLoads) < 0) return;
        Interlocked.Increment(ref FailedLoads);
        throw new TimeoutException($"store unavailable (injected) reading {what}");
    }

    public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);

    public Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default)
    {
        MaybeFailLoad($"the checkpoint of {partition}");
        return inner.LoadCheckpointAsync(scope, partition, ct);
    }

    public Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default) => inner.LoadEntityAsync(scope, partition, key, ct);

    public Task<byte[]?> LoadOwnedEntityAsync(string scope, int partition, string key, long? expectedNextOffset, CancellationToken ct = default) =>
        inner.LoadOwnedEntityAsync(scope, partition, key, expectedNextOffset, ct);

    public Task<IReadOnlyDictionary<string, byte[]>> LoadOwnedEntitiesAsync(string scope, int partition, IReadOnlyCollection<string> keys,
        long? expectedNextOffset, CancellationToken ct = default) => inner.LoadOwnedEntitiesAsync(scope, partition, keys, expectedNextOffset, ct);

    public Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default)
    {
        MaybeFailLoad($"the timers of {partition}");
        return inner.LoadTimersAsync(scope, partition, ct);
    }

    public async Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default)
    {
        if (Interlocked.Decrement(ref FailNextCommits) >= 0 && Interlocked.Increment(ref FailedCommits) > 0) throw new TimeoutException($"store unavailable (injected) committing {batch}");
        if (BeforeCommit?.Invoke() is { } violation) Violations.Enqueue($"{batch}: {violation}");
        await inner.CommitAsync(batch, ct);
        if (Recording)
            lock (Scenario)
                Scenario.Commit(batch.NextOffset, batch.Entities, batch.ShardState!, (batch.Outbox ?? []).Select(m => m.Value), batch.Erasures ?? [], batch.Withdrawals ?? []);
        Interlocked.Increment(ref Commits);
    }

    public IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, CancellationToken ct = default) => inner.ReadEntitiesAsync(scope, partition, ct);

    public Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default) => inner.LoadCheckpointsAsync(scope, ct);

    public Task<IReadOnlyList<StoredOutboxMessage>> ReadOutboxAsync(string scope, IReadOnlyCollection<int> partitions, int max, CancellationToken ct = default) =>
        inner.ReadOutboxAsync(scope, partitions, max, ct);

    public Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) => inner.DeleteOutboxAsync(ids, ct);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// Users as plain <see cref="UserWorker"/>s answering on the thread pool, loading their committed rows from the store
/// fenced as actors do, a new epoch making each reload, and clean ones forgotten at random (passivation).
/// </summary>
internal sealed class WorkerRounds(ICheckpointStore store, UserProcessor processor, int seed) : IUserRounds
{
    private readonly ConcurrentDictionary<string, (UserWorker Worker, long Epoch)> _workers = new(StringComparer.Ordinal);
    private readonly Random _rng = new(seed);

    /// <summary>Every poison record a user reported, by offset (the reference rejects them up front).</summary>
    public readonly ConcurrentDictionary<long, PoisonRecordException> Poison = new();

    /// <summary>Which rounds (numbered from 1 in the order they arrive) fail as a timeout would.</summary>
    public Func<int, bool>? FailRound;

    /// <summary>Which rounds fall silent half-way, as when a shard hand-off drops messages: the first half of the
    /// users apply their work, then the round fails with <see cref="UserRoundLostException"/>.</summary>
    public Func<int, bool>? LoseRound;

    public int Rounds, FailedRounds, StateLost, LostRounds;

    /// <summary>Share of answered users whose worker then vanishes even if dirty (a crash or hand-off; 0..1).</summary>
    public double CrashShare;

    public async Task<UserWorkResult[]> RunAsync(PartitionRound round, long epoch, long? expectedNextOffset, CancellationToken ct = default,
        Action<StreamPersonalization.Runtime.Users.UserRoundFailed, int>? waiting = null)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        var number = Interlocked.Increment(ref Rounds);
        if (FailRound?.Invoke(number) == true && Interlocked.Increment(ref FailedRounds) > 0) throw new TimeoutException($"{round}: users did not answer (injected)");
        var silentAfter = LoseRound?.Invoke(number) == true ? round.Work.Count / 2 : -1;
        var results = new UserWorkResult[round.Work.Count];
        for (var i = 0; i < results.Length; i++)
        {
            if (i == silentAfter)
            {
                Interlocked.Increment(ref LostRounds);
                throw new UserRoundLostException($"{round}: {results.Length - i} users silent (injected)");
            }
            var work = round.Work[i];
            if (!_workers.TryGetValue(work.Key, out var known) || known.Epoch != epoch || known.Worker.Entity is null && !known.Worker.DirtySinceCheckpoint)
            {
                if (work.Continues)
                {
                    Interlocked.Increment(ref StateLost);
                    throw new UserRoundFailedException(new UserRoundFailed(round.Partition, epoch, work.Key, UserRoundRefusal.StateLost, "worker gone"));
                }
                byte[]? row;
                try { row = await store.LoadOwnedEntityAsync(CheckpointStoreUserStateLoader.Scope, round.Partition, work.Key, expectedNextOffset, ct); }
                catch (CheckpointConflictException e) { throw new UserRoundFailedException(new UserRoundFailed(round.Partition, epoch, work.Key, UserRoundRefusal.Fenced, e.Message)); }
                var w = new UserWorker(work.Key, processor, () => RoundsScenario.Experiments);
                w.Restore(row);
                _workers[work.Key] = known = (w, epoch);
            }
            results[i] = known.Worker.Run(work);
            if (results[i].Poison is { } p) Poison.TryAdd(results[i].PoisonOffset, p);
        }
        lock (_rng)
            foreach (var (key, w) in _workers)
                if (!w.Worker.DirtySinceCheckpoint && _rng.Next(4) == 0 || _rng.NextDouble() < CrashShare) _workers.TryRemove(key, out _);
        return results;
    }
}

internal static class PartitionEvents
{
    /// <summary>The log as the Kafka source emits it: consecutive batches of random size (at most <paramref name="maxBatch"/>).</summary>
    public static List<PartitionRecords> Batches(IReadOnlyList<InputRecord> log, int maxBatch, int seed, int partition = 0)
    {
        var rng = new Random(seed);
        var batches = new List<PartitionRecords>();
        for (var at = 0; at < log.Count;)
        {
            var n = Math.Min(log.Count - at, 1 + rng.Next(maxBatch));
            batches.Add(new PartitionRecords(partition, log.Skip(at).Take(n).Select(r => ToConsumeResult(r, partition)).ToList()));
            at += n;
        }
        return batches;
    }

    public static ConsumeResult<byte[], byte[]> ToConsumeResult(InputRecord r, int partition) => new()
    {
        Topic = r.Topic,
        Partition = new Partition(partition),
        Offset = new Offset(r.Offset),
        Message = new Message<byte[], byte[]>
        {
            Key = r.Key!, Value = r.Value, Timestamp = new Timestamp(r.TimestampMs, TimestampType.CreateTime),
            Headers = r.Headers is null ? null! : ToHeaders(r.Headers),
        },
    };

    private static Headers ToHeaders(IReadOnlyList<KeyValuePair<string, byte[]>> headers)
    {
        var h = new Headers();
        foreach (var (k, v) in headers) h.Add(k, v);
        return h;
    }

    /// <summary>Checkpoints exactly every <paramref name="every"/> records and at the end (the stage cuts its rounds there).</summary>
    public static (List<int> Ends, HashSet<int> Checkpoints) CheckpointEvery(int count, int every)
    {
        var ends = new List<int>();
        for (var at = every; at < count; at += every) ends.Add(at);
        ends.Add(count);
        return (ends, Enumerable.Range(0, ends.Count).ToHashSet());
    }
}

/// <summary>Output records as text (topic, key, record id, value) to compare what reached Kafka with what was expected.</summary>
internal static class OutputRecords
{
    public static string Render(string topic, Message<byte[], byte[]> m) =>
        $"{topic} {System.Text.Encoding.UTF8.GetString(m.Key ?? [])} {System.Text.Encoding.UTF8.GetString(m.Headers.GetLastBytes(OutputMessages.RecordIdHeader))} {(m.Value is null ? "tombstone" : Convert.ToHexString(m.Value))}";

    /// <summary>The records <paramref name="outputs"/> become (<see cref="OutputMessages"/>), in order.</summary>
    public static List<string> Expected(IEnumerable<ShardOutput> outputs, OutputTopics topics)
    {
        var messages = new List<(string Topic, Message<byte[], byte[]> Message)>();
        foreach (var o in outputs) OutputMessages.Add(o, topics, messages);
        return messages.Select(m => Render(m.Topic, m.Message)).ToList();
    }

    /// <summary>Every record of the three output topics (per partition in offset order), reading until
    /// <paramref name="expected"/> arrived and then half a second more (to see any extra).</summary>
    public static List<string> ReadAll(Ingest.EmbeddedKafkaFixture kafka, OutputTopics topics, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(kafka.Consumer($"read-{Guid.NewGuid():N}")).Build();
        consumer.Subscribe([topics.Sessions, topics.SegmentChanges, topics.DeadLetter]);
        var records = new List<string>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (records.Count < expected && DateTime.UtcNow < until)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) records.Add(Render(r.Topic, r.Message));
        while (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } extra) records.Add(Render(extra.Topic, extra.Message));
        return records;
    }
}
