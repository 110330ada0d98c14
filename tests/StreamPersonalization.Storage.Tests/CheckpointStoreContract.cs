using System.Diagnostics;
using StreamPersonalization.Core.Checkpoints;
using Xunit.Abstractions;

namespace StreamPersonalization.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="ICheckpointStore"/> must have. Each provider subclasses it and
/// supplies fresh, isolated storage per test (a temp file, a fresh PostgreSQL schema), so every
/// provider is held to exactly the same tests.
/// </summary>
public abstract partial class CheckpointStoreContract : IAsyncLifetime
{
    private const string Scope = "users";
    private readonly List<ICheckpointStore> _stores = [];
    private string _location = "";

    protected CheckpointStoreContract(ITestOutputHelper output) => Output = output;

    protected ITestOutputHelper Output { get; }

    /// <summary>The store under test, initialized on this test's storage.</summary>
    protected ICheckpointStore Store { get; private set; } = null!;

    /// <summary>Creates empty storage nobody else uses and returns what <see cref="OpenStore"/> needs to reach it.</summary>
    protected abstract Task<string> CreateStorageAsync();

    /// <summary>A new, uninitialized store instance on the storage at <paramref name="location"/>.</summary>
    protected abstract ICheckpointStore OpenStore(string location);

    /// <summary>Makes the database itself reject any write of entity <paramref name="key"/> (a trigger), to fail a batch mid-way.</summary>
    protected abstract Task MakeEntityWritesFailAsync(string location, string key);

    /// <summary>Removes everything <see cref="CreateStorageAsync"/> created.</summary>
    protected abstract Task DeleteStoragesAsync();

    /// <summary>Where this test's storage is (for stores other than the checkpoint store on the same database).</summary>
    protected string Location => _location;

    public async Task InitializeAsync()
    {
        _location = await CreateStorageAsync();
        Store = Open(_location);
        await Store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
            await store.DisposeAsync();
        await DeleteStoragesAsync();
    }

    [Fact]
    public async Task Empty_store_returns_null_and_empty()
    {
        Assert.Null(await Store.LoadCheckpointAsync(Scope, 0));
        Assert.Null(await Store.LoadEntityAsync(Scope, 0, "u1"));
        Assert.Empty(await Store.LoadTimersAsync(Scope, 0));
        Assert.Empty(await Store.LoadCheckpointsAsync(Scope));
        Assert.Empty(await ReadAll(Scope));
    }

    [Fact]
    public async Task Committed_checkpoint_and_entities_round_trip_byte_exact()
    {
        var allBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var large = Bytes(seed: 7, length: 200_000);
        byte[] shardState = [0, 1, 2, 255, 0];

        await Store.CommitAsync(Batch(expected: null, next: 42, shardState: shardState, watermark: 1_700_000_000_123,
            entities: [Upsert("all-bytes", allBytes), Upsert("empty", []), Upsert("large", large), Upsert("ünïcødé-🔑", [9])]));

        var checkpoint = await Store.LoadCheckpointAsync(Scope, 0);
        Assert.NotNull(checkpoint);
        Assert.Equal((Scope, 0, 42L, 1_700_000_000_123L), (checkpoint.Scope, checkpoint.Partition, checkpoint.NextOffset, checkpoint.WatermarkMs));
        Assert.Equal(shardState, checkpoint.ShardState);
        Assert.Equal(allBytes, await Store.LoadEntityAsync(Scope, 0, "all-bytes"));
        Assert.Equal(Array.Empty<byte>(), await Store.LoadEntityAsync(Scope, 0, "empty"));
        Assert.Equal(large, await Store.LoadEntityAsync(Scope, 0, "large"));
        Assert.Equal([9], await Store.LoadEntityAsync(Scope, 0, "ünïcødé-🔑"));

        await Store.CommitAsync(Batch(expected: 42, next: 50, shardState: null, watermark: 5, entities: [Upsert("empty", [1, 2])]));
        checkpoint = await Store.LoadCheckpointAsync(Scope, 0);
        Assert.Equal((50L, 5L), (checkpoint!.NextOffset, checkpoint.WatermarkMs));
        Assert.Null(checkpoint.ShardState);
        Assert.Equal([1, 2], await Store.LoadEntityAsync(Scope, 0, "empty"));
        Assert.Equal(allBytes, await Store.LoadEntityAsync(Scope, 0, "all-bytes"));
    }

    [Fact]
    public async Task Owned_entity_load_is_fenced_on_the_owners_checkpoint()
    {
        // Before any checkpoint the owner expects none.
        Assert.Null(await Store.LoadOwnedEntityAsync(Scope, 0, "u", expectedNextOffset: null));
        await Store.CommitAsync(Batch(null, 10, entities: [Upsert("u", [1])]));
        Assert.Equal([1], await Store.LoadOwnedEntityAsync(Scope, 0, "u", expectedNextOffset: 10));
        Assert.Null(await Store.LoadOwnedEntityAsync(Scope, 0, "never-stored", expectedNextOffset: 10));

        // Another shard took the partition over from offset 10 and committed newer state: the old owner must not see it.
        await Store.CommitAsync(Batch(10, 25, entities: [Upsert("u", [2])]));
        var stale = await Assert.ThrowsAsync<CheckpointConflictException>(() => Store.LoadOwnedEntityAsync(Scope, 0, "u", expectedNextOffset: 10));
        Assert.Equal((10L, 25L), (stale.Expected, stale.Actual));
        await Assert.ThrowsAsync<CheckpointConflictException>(() => Store.LoadOwnedEntityAsync(Scope, 0, "u", expectedNextOffset: null));
        Assert.Equal([2], await Store.LoadOwnedEntityAsync(Scope, 0, "u", expectedNextOffset: 25));
        // Other partitions are fenced on their own checkpoints.
        Assert.Null(await Store.LoadOwnedEntityAsync(Scope, 1, "u", expectedNextOffset: null));
    }

    [Fact]
    public async Task LoadOwnedEntitiesAsync_ReturnsThePartitionsRowsAndIsFencedLikeOneLoad()
    {
        // Before any checkpoint the owner expects none, and nothing is found.
        Assert.Empty(await Store.LoadOwnedEntitiesAsync(Scope, 0, ["a", "b"], expectedNextOffset: null));
        await Store.CommitAsync(Batch(null, 10, entities: [Upsert("a", [1]), Upsert("b", []), Upsert("ünï-🔑", [3, 4]), Upsert("other-scope", [9])]));
        await Store.CommitAsync(Batch(null, 5, partition: 1, entities: [Upsert("a", [7])]));
        await Store.CommitAsync(Batch(null, 5, scope: "elsewhere", entities: [Upsert("c", [8])]));

        var many = Enumerable.Range(0, 600).Select(i => $"absent-{i}").Concat(["a", "b", "ünï-🔑", "c"]).ToList();
        var rows = await Store.LoadOwnedEntitiesAsync(Scope, 0, many, expectedNextOffset: 10);
        Assert.Equal(["a", "b", "ünï-🔑"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1], rows["a"]);
        Assert.Empty(rows["b"]);
        Assert.Equal([3, 4], rows["ünï-🔑"]);
        // Each row is what the single load reads.
        foreach (var key in many) Assert.Equal(await Store.LoadOwnedEntityAsync(Scope, 0, key, 10), rows.GetValueOrDefault(key));
        Assert.Equal([7], (await Store.LoadOwnedEntitiesAsync(Scope, 1, ["a"], expectedNextOffset: 5))["a"]);
        Assert.Empty(await Store.LoadOwnedEntitiesAsync(Scope, 0, [], expectedNextOffset: 10));

        // Another owner moved the checkpoint: the old owner gets no rows at all.
        await Store.CommitAsync(Batch(10, 25, entities: [Upsert("a", [2])]));
        var stale = await Assert.ThrowsAsync<CheckpointConflictException>(() => Store.LoadOwnedEntitiesAsync(Scope, 0, ["a"], expectedNextOffset: 10));
        Assert.Equal((10L, 25L), (stale.Expected, stale.Actual));
        await Assert.ThrowsAsync<CheckpointConflictException>(() => Store.LoadOwnedEntitiesAsync(Scope, 0, ["a"], expectedNextOffset: null));
        Assert.Equal([2], (await Store.LoadOwnedEntitiesAsync(Scope, 0, ["a"], expectedNextOffset: 25))["a"]);
    }

    [Fact]
    public async Task Null_state_deletes_the_entity()
    {
        await Store.CommitAsync(Batch(null, 10, entities: [Upsert("a", [1]), Upsert("b", [2])]));
        await Store.CommitAsync(Batch(10, 20, entities: [Delete("a"), Delete("never-existed")]));

        Assert.Null(await Store.LoadEntityAsync(Scope, 0, "a"));
        Assert.Equal([2], await Store.LoadEntityAsync(Scope, 0, "b"));
        Assert.Equal(["b"], (await ReadAll(Scope)).Select(e => e.Key));
        Assert.Equal(20, (await Store.LoadCheckpointAsync(Scope, 0))!.NextOffset);
    }

    [Fact]
    public async Task Timers_are_loaded_only_for_entities_with_a_timer_and_follow_later_commits()
    {
        await Store.CommitAsync(Batch(null, 1, entities:
            [Upsert("no-timer", [1]), Upsert("t-late", [2], timer: 3000), Upsert("t-early", [3], timer: 1000), Upsert("t-gone", [4], timer: 2000)]));
        Assert.Equal([new EntityTimer("t-early", 1000), new EntityTimer("t-gone", 2000), new EntityTimer("t-late", 3000)],
            await Store.LoadTimersAsync(Scope, 0));

        await Store.CommitAsync(Batch(1, 2, entities:
            [Upsert("t-late", [2], timer: 500), Upsert("t-early", [3], timer: null), Delete("t-gone"), Upsert("no-timer", [1], timer: 4000)]));
        Assert.Equal([new EntityTimer("t-late", 500), new EntityTimer("no-timer", 4000)], await Store.LoadTimersAsync(Scope, 0));

        var stored = (await ReadAll(Scope)).ToDictionary(e => e.Key, e => e.NextTimerMs);
        Assert.Equal(new Dictionary<string, long?> { ["no-timer"] = 4000, ["t-early"] = null, ["t-late"] = 500 }, stored);
        Assert.Empty(await Store.LoadTimersAsync(Scope, 1));
    }

    [Fact]
    public async Task Wrong_expected_offset_conflicts_and_writes_nothing()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(99, 200, shardState: [2], watermark: 8, entities: [Upsert("a", [2]), Upsert("b", [3]), Delete("a")])));

        Assert.Equal((Scope, 0, 99L, 100L), (conflict.Scope, conflict.Partition, conflict.Expected, conflict.Actual));
        await AssertUnchangedAfterFailedCommit();
    }

    [Fact]
    public async Task Expected_none_when_a_checkpoint_exists_conflicts_and_writes_nothing()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(null, 200, shardState: [2], watermark: 8, entities: [Upsert("a", [2]), Upsert("b", [3])])));

        Assert.Equal(((long?)null, (long?)100), (conflict.Expected, conflict.Actual));
        await AssertUnchangedAfterFailedCommit();
    }

    [Fact]
    public async Task Expected_offset_when_none_is_stored_conflicts_and_writes_nothing()
    {
        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(5, 10, entities: [Upsert("a", [1])])));

        Assert.Equal(((long?)5, (long?)null), (conflict.Expected, conflict.Actual));
        Assert.Null(await Store.LoadCheckpointAsync(Scope, 0));
        Assert.Empty(await ReadAll(Scope));
    }

    [Fact]
    public async Task Entity_write_failing_mid_batch_rolls_back_the_whole_checkpoint()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));
        await MakeEntityWritesFailAsync(_location, "poison");

        // Valid writes before and after the failing one; the offset row is written before the entities.
        var entities = Enumerable.Range(0, 50).Select(i => Upsert($"k{i:D3}", [(byte)i], timer: i))
            .Append(Upsert("a", [2], timer: 99)).Append(Upsert("poison", [0])).Append(Delete("a"))
            .ToList();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(Batch(100, 200, shardState: [2], watermark: 8, entities: entities)));
        Output.WriteLine($"Injected failure surfaced as {error.GetType().Name}: {error.Message}");
        Assert.IsNotType<CheckpointConflictException>(error);

        await AssertUnchangedAfterFailedCommit();
        // The store is still usable and the fence still holds the old offset.
        await Store.CommitAsync(Batch(100, 200, entities: [Upsert("b", [3])]));
        Assert.Equal(200, (await Store.LoadCheckpointAsync(Scope, 0))!.NextOffset);
    }

    [Fact]
    public async Task Null_key_is_rejected_before_anything_is_written()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.CommitAsync(Batch(100, 200, shardState: [2], watermark: 8, entities: [Upsert("b", [3]), new EntityWrite(null!, [1], null)])));

        Assert.Contains("#1", error.Message);
        await AssertUnchangedAfterFailedCommit();
    }

    [Fact]
    public async Task Cancelled_commit_writes_nothing()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.CommitAsync(Batch(100, 200, shardState: [2], watermark: 8, entities: [Upsert("b", [3])]), new CancellationToken(canceled: true)));

        await AssertUnchangedAfterFailedCommit();
    }

    [Fact]
    public async Task Duplicate_keys_in_one_batch_last_write_wins()
    {
        await Store.CommitAsync(Batch(null, 1, entities: [Upsert("a", [1]), Upsert("b", [1]), Upsert("a", [2], timer: 5), Delete("b"), Upsert("c", [1]), Delete("c"), Upsert("c", [3])]));

        Assert.Equal([2], await Store.LoadEntityAsync(Scope, 0, "a"));
        Assert.Null(await Store.LoadEntityAsync(Scope, 0, "b"));
        Assert.Equal([3], await Store.LoadEntityAsync(Scope, 0, "c"));
        Assert.Equal([new EntityTimer("a", 5)], await Store.LoadTimersAsync(Scope, 0));
    }

    [Fact]
    public async Task Scopes_and_partitions_are_isolated()
    {
        await Store.CommitAsync(Batch(null, 10, scope: "users", partition: 0, entities: [Upsert("k", [1], timer: 1)]));
        await Store.CommitAsync(Batch(null, 20, scope: "users", partition: 1, entities: [Upsert("k", [2], timer: 2)]));
        await Store.CommitAsync(Batch(null, 30, scope: "experiments", partition: 0, entities: [Upsert("k", [3], timer: 3)]));

        Assert.Equal([1], await Store.LoadEntityAsync("users", 0, "k"));
        Assert.Equal([2], await Store.LoadEntityAsync("users", 1, "k"));
        Assert.Equal([3], await Store.LoadEntityAsync("experiments", 0, "k"));
        Assert.Null(await Store.LoadEntityAsync("experiments", 1, "k"));
        Assert.Equal([new EntityTimer("k", 2)], await Store.LoadTimersAsync("users", 1));
        Assert.Equal([new EntityTimer("k", 3)], await Store.LoadTimersAsync("experiments", 0));
        Assert.Equal([10L, 20L], (await Store.LoadCheckpointsAsync("users")).Select(c => c.NextOffset));
        Assert.Equal([30L], (await Store.LoadCheckpointsAsync("experiments")).Select(c => c.NextOffset));

        // Deleting in one scope/partition leaves the same key elsewhere alone; fencing is per scope and partition.
        await Store.CommitAsync(Batch(10, 11, scope: "users", partition: 0, entities: [Delete("k")]));
        await Assert.ThrowsAsync<CheckpointConflictException>(() => Store.CommitAsync(Batch(10, 12, scope: "users", partition: 1, entities: [])));
        Assert.Null(await Store.LoadEntityAsync("users", 0, "k"));
        Assert.Equal([2], await Store.LoadEntityAsync("users", 1, "k"));
        Assert.Equal([3], await Store.LoadEntityAsync("experiments", 0, "k"));
    }

    [Fact]
    public async Task Read_entities_is_ordered_by_partition_then_key()
    {
        string[] keys = ["b", "a", "B", "a10", "a2", "_", "z", "é"];
        await Store.CommitAsync(Batch(null, 1, partition: 2, entities: [.. keys.Select(k => Upsert(k, [2]))]));
        await Store.CommitAsync(Batch(null, 1, partition: 0, entities: [.. keys.Reverse().Select(k => Upsert(k, [0]))]));
        await Store.CommitAsync(Batch(null, 1, partition: 1, entities: [Upsert("m", [1])]));
        await Store.CommitAsync(Batch(null, 1, scope: "other", partition: 0, entities: [Upsert("x", [9])]));

        var ordinal = keys.Order(StringComparer.Ordinal).ToArray();
        var expected = ordinal.Select(k => (0, k)).Append((1, "m")).Concat(ordinal.Select(k => (2, k))).ToArray();
        var all = await ReadAll(Scope);
        Assert.Equal(expected, all.Select(e => (e.Partition, e.Key)));
        Assert.All(all, e => Assert.Equal(Scope, e.Scope));
        Assert.All(all, e => Assert.Equal([(byte)e.Partition], e.State));

        Assert.Equal(ordinal, (await ReadAll(Scope, partition: 2)).Select(e => e.Key));
        Assert.Empty(await ReadAll(Scope, partition: 3));
    }

    [Fact]
    public async Task Load_checkpoints_is_ordered_by_partition()
    {
        foreach (var partition in new[] { 3, 0, 11, 2 })
            await Store.CommitAsync(Batch(null, partition * 10, partition: partition, entities: []));

        Assert.Equal([0, 2, 3, 11], (await Store.LoadCheckpointsAsync(Scope)).Select(c => c.Partition));
    }

    [Fact]
    public async Task A_20000_entity_batch_commits()
    {
        const int count = 20_000;
        var states = Enumerable.Range(0, count).Select(i => Bytes(i, 64 + i % 200)).ToArray();
        var inserts = Enumerable.Range(0, count).Select(i => Upsert($"user-{i:D6}", states[i], timer: i % 3 == 0 ? i : null)).ToList();

        var elapsed = Stopwatch.StartNew();
        await Store.CommitAsync(Batch(null, count, entities: inserts));
        Output.WriteLine($"{GetType().Name}: committed {count} new entities in {elapsed.ElapsedMilliseconds} ms");

        var updates = Enumerable.Range(0, count).Select(i => i % 2 == 0 ? Delete($"user-{i:D6}") : Upsert($"user-{i:D6}", [1, 2, 3], timer: i)).ToList();
        elapsed.Restart();
        await Store.CommitAsync(Batch(count, 2 * count, entities: updates));
        Output.WriteLine($"{GetType().Name}: committed {count / 2} updates + {count / 2} deletes in {elapsed.ElapsedMilliseconds} ms");

        var stored = await ReadAll(Scope);
        Assert.Equal(count / 2, stored.Count);
        Assert.All(stored, e => Assert.Equal([1, 2, 3], e.State));
        Assert.Equal(count / 2, (await Store.LoadTimersAsync(Scope, 0)).Count);
        Assert.Equal(2 * count, (await Store.LoadCheckpointAsync(Scope, 0))!.NextOffset);
    }

    [Fact]
    public async Task Concurrent_commits_on_four_partitions_all_succeed()
    {
        const int commits = 25, entitiesPerCommit = 200;
        var writers = Enumerable.Range(0, 4).Select(partition => Task.Run(async () =>
        {
            long? expected = null;
            for (var c = 0; c < commits; c++)
            {
                var next = (c + 1) * 1000L;
                var entities = Enumerable.Range(0, entitiesPerCommit)
                    .Select(i => Upsert($"p{partition}-k{(c * entitiesPerCommit / 2) + i:D5}", [(byte)partition, (byte)c], timer: c)).ToList();
                await Store.CommitAsync(Batch(expected, next, partition: partition, watermark: c, entities: entities));
                expected = next;
            }
        })).ToArray();
        await Task.WhenAll(writers);

        var checkpoints = await Store.LoadCheckpointsAsync(Scope);
        Assert.Equal([0, 1, 2, 3], checkpoints.Select(c => c.Partition));
        Assert.All(checkpoints, c => Assert.Equal((commits * 1000L, commits - 1L), (c.NextOffset, c.WatermarkMs)));
        // Each commit overlaps half of the previous commit's keys.
        var distinctKeys = (commits - 1) * entitiesPerCommit / 2 + entitiesPerCommit;
        for (var partition = 0; partition < 4; partition++)
        {
            var stored = await ReadAll(Scope, partition);
            Assert.Equal(distinctKeys, stored.Count);
            Assert.All(stored, e => Assert.Equal((byte)partition, e.State[0]));
        }
    }

    [Fact]
    public async Task Concurrent_commits_with_the_same_fencing_token_let_exactly_one_win()
    {
        foreach (var expected in new long?[] { null, 10 })
        {
            var next = (expected ?? 0) + 10;
            var contenders = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
            {
                try
                {
                    await Store.CommitAsync(Batch(expected, next, shardState: [(byte)writer], entities: [Upsert($"w{writer}", [(byte)writer])]));
                    return writer;
                }
                catch (CheckpointConflictException)
                {
                    return -1;
                }
            })).ToArray();
            var winners = (await Task.WhenAll(contenders)).Where(w => w >= 0).ToArray();

            var winner = Assert.Single(winners);
            var checkpoint = await Store.LoadCheckpointAsync(Scope, 0);
            Assert.Equal(next, checkpoint!.NextOffset);
            Assert.Equal([(byte)winner], checkpoint.ShardState!);
            var only = Assert.Single(await ReadAll(Scope));
            Assert.Equal(($"w{winner}", (byte)winner), (only.Key, only.State.Single()));
            await Store.CommitAsync(Batch(next, next, entities: [.. Enumerable.Range(0, 4).Select(w => Delete($"w{w}"))]));
        }
    }

    [Fact]
    public async Task Initialize_is_idempotent_and_safe_to_run_concurrently_on_fresh_storage()
    {
        await Store.CommitAsync(Batch(null, 5, entities: [Upsert("a", [1])]));
        await Store.InitializeAsync();
        await Store.InitializeAsync();
        Assert.Equal(5, (await Store.LoadCheckpointAsync(Scope, 0))!.NextOffset);
        Assert.Equal([1], await Store.LoadEntityAsync(Scope, 0, "a"));

        var fresh = await CreateStorageAsync();
        var nodes = Enumerable.Range(0, 4).Select(_ => Open(fresh)).ToArray();
        await Task.WhenAll(nodes.Select(node => Task.Run(() => node.InitializeAsync())));
        await nodes[0].CommitAsync(Batch(null, 1, entities: [Upsert("b", [2])]));
        Assert.Equal([2], await nodes[3].LoadEntityAsync(Scope, 0, "b"));
    }

    [Fact]
    public async Task A_reopened_store_sees_committed_data()
    {
        await Store.CommitAsync(Batch(null, 77, shardState: [4, 2], watermark: 123, entities: [Upsert("a", [1, 2, 3], timer: 9), Upsert("b", [4])]));
        await Store.DisposeAsync();

        var reopened = Open(_location);
        await reopened.InitializeAsync();
        Assert.Equal(new PartitionCheckpoint(Scope, 0, 77, 123, null) with { ShardState = [4, 2] },
            await reopened.LoadCheckpointAsync(Scope, 0), CheckpointComparer.Instance);
        Assert.Equal([1, 2, 3], await reopened.LoadEntityAsync(Scope, 0, "a"));
        Assert.Equal([new EntityTimer("a", 9)], await reopened.LoadTimersAsync(Scope, 0));
        await reopened.CommitAsync(Batch(77, 78, entities: [Delete("b")]));
        Assert.Equal(["a"], (await ReadAll(Scope, store: reopened)).Select(e => e.Key));
    }

    [Fact]
    public async Task Outbox_rows_come_back_in_commit_order_with_exact_bytes()
    {
        var allBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var large = Bytes(seed: 3, length: 100_000);
        OutboxMessage[] first = [Message("ranges", "k-1", allBytes), Message("ranges", "k-0", []), new("other-topic", [], [0])];
        OutboxMessage[] second = [Message("ranges", "p1", large)];
        OutboxMessage[] third = [Message("ranges", "k-2", [0, 0, 255]), Message("ranges", "k-1", [7])];

        await Store.CommitAsync(Batch(null, 10, partition: 0, outbox: first));
        await Store.CommitAsync(Batch(null, 10, partition: 1, outbox: second));
        await Store.CommitAsync(Batch(10, 20, partition: 0, outbox: third));

        var rows = await Store.ReadOutboxAsync(Scope, [0, 1], 100);
        var expected = first.Select(m => Shape(Scope, 0, m)).Concat(second.Select(m => Shape(Scope, 1, m))).Concat(third.Select(m => Shape(Scope, 0, m)));
        Assert.Equal(expected, Shape(rows));
        Assert.Equal(rows.Select(r => r.Id).Order(), rows.Select(r => r.Id));
        Assert.Equal(rows.Count, rows.Select(r => r.Id).Distinct().Count());
        Assert.Equal(large, rows[3].Value);
        Assert.Equal(allBytes, rows[0].Value);
        Assert.Empty(rows[1].Value);
        Assert.Empty(rows[2].Key);
    }

    [Fact]
    public async Task Outbox_is_filtered_by_scope_and_partitions()
    {
        await Store.CommitAsync(Batch(null, 1, scope: "users", partition: 0, outbox: [Message("t", "u0", [0])]));
        await Store.CommitAsync(Batch(null, 1, scope: "users", partition: 1, outbox: [Message("t", "u1", [1])]));
        await Store.CommitAsync(Batch(null, 1, scope: "users", partition: 2, outbox: [Message("t", "u2", [2])]));
        await Store.CommitAsync(Batch(null, 1, scope: "experiments", partition: 1, outbox: [Message("t", "e1", [3])]));

        Assert.Equal(["u0", "u2"], (await Store.ReadOutboxAsync("users", [2, 0], 10)).Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));
        Assert.Equal(["u1"], (await Store.ReadOutboxAsync("users", [1, 7], 10)).Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));
        Assert.Equal(["u0", "u1", "u2"], (await Store.ReadOutboxAsync("users", AllPartitions, 10)).Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));
        var experiments = await Store.ReadOutboxAsync("experiments", AllPartitions, 10);
        Assert.Equal([("experiments", 1, "e1")], experiments.Select(r => (r.Scope, r.Partition, System.Text.Encoding.UTF8.GetString(r.Key))));
        Assert.Empty(await Store.ReadOutboxAsync("users", [3], 10));
        Assert.Empty(await Store.ReadOutboxAsync("users", [], 10));
        Assert.Empty(await Store.ReadOutboxAsync("nobody", AllPartitions, 10));
    }

    [Fact]
    public async Task Outbox_read_returns_at_most_max_oldest_first()
    {
        for (var c = 0; c < 4; c++)
            await Store.CommitAsync(Batch(c == 0 ? null : c, c + 1, outbox: [.. Enumerable.Range(0, 5).Select(i => Message("t", $"{c}-{i}", [(byte)c, (byte)i]))]));

        var all = await Store.ReadOutboxAsync(Scope, [0], 100);
        Assert.Equal(20, all.Count);
        var firstSeven = await Store.ReadOutboxAsync(Scope, [0], 7);
        Assert.Equal(all.Take(7).Select(r => r.Id), firstSeven.Select(r => r.Id));
        Assert.Equal(["0-0", "0-1", "0-2", "0-3", "0-4", "1-0", "1-1"], firstSeven.Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));
        Assert.Single(await Store.ReadOutboxAsync(Scope, [0], 1));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => Store.ReadOutboxAsync(Scope, [0], 0));
    }

    [Fact]
    public async Task Outbox_delete_removes_only_the_given_ids_and_ignores_unknown_ids()
    {
        await Store.CommitAsync(Batch(null, 1, partition: 0, outbox: [.. Enumerable.Range(0, 6).Select(i => Message("t", $"a{i}", [(byte)i]))]));
        await Store.CommitAsync(Batch(null, 1, partition: 1, outbox: [Message("t", "b0", [9])]));
        var rows = await Store.ReadOutboxAsync(Scope, [0, 1], 100);
        Assert.Equal(7, rows.Count);

        var unknown = rows.Max(r => r.Id) + 1_000;
        await Store.DeleteOutboxAsync([rows[0].Id, rows[2].Id, rows[6].Id, unknown, -1]);
        await Store.DeleteOutboxAsync([]);

        var left = await Store.ReadOutboxAsync(Scope, [0, 1], 100);
        Assert.Equal(new[] { 1, 3, 4, 5 }.Select(i => rows[i].Id), left.Select(r => r.Id));
        Assert.Equal(["a1", "a3", "a4", "a5"], left.Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));

        // Deleting the newest rows does not make their ids reusable: later commits still get larger ids.
        await Store.DeleteOutboxAsync([.. left.Select(r => r.Id)]);
        Assert.Empty(await Store.ReadOutboxAsync(Scope, [0, 1], 100));
        await Store.CommitAsync(Batch(1, 2, partition: 0, outbox: [Message("t", "later", [1])]));
        var later = Assert.Single(await Store.ReadOutboxAsync(Scope, [0, 1], 100));
        Assert.True(later.Id > rows.Max(r => r.Id), $"id {later.Id} reused after deleting up to {rows.Max(r => r.Id)}");
    }

    [Fact]
    public async Task Fenced_commit_writes_no_outbox_rows()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)], outbox: [Message("t", "kept", [1])]));

        await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(99, 200, shardState: [2], watermark: 8, entities: [Upsert("b", [3])], outbox: [Message("t", "zombie", [2])])));
        await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(null, 200, outbox: [Message("t", "zombie", [3])])));
        await Assert.ThrowsAsync<CheckpointConflictException>(() =>
            Store.CommitAsync(Batch(5, 200, partition: 1, outbox: [Message("t", "zombie", [4])])));

        await AssertUnchangedAfterFailedCommit();
        var only = Assert.Single(await Store.ReadOutboxAsync(Scope, AllPartitions, 100));
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(only.Key));
    }

    [Fact]
    public async Task Entity_write_failing_mid_batch_writes_no_outbox_rows()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)], outbox: [Message("t", "kept", [1])]));
        await MakeEntityWritesFailAsync(_location, "poison");

        var outbox = Enumerable.Range(0, 50).Select(i => Message("t", $"lost-{i}", [(byte)i])).ToList();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(
            Batch(100, 200, shardState: [2], watermark: 8, entities: [Upsert("b", [2]), Upsert("poison", [0]), Upsert("c", [3])], outbox: outbox)));
        Assert.IsNotType<CheckpointConflictException>(error);

        await AssertUnchangedAfterFailedCommit();
        var only = Assert.Single(await Store.ReadOutboxAsync(Scope, AllPartitions, 100));
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(only.Key));

        await Store.CommitAsync(Batch(100, 200, entities: [Upsert("b", [3])], outbox: [Message("t", "after", [2])]));
        Assert.Equal(["kept", "after"], (await Store.ReadOutboxAsync(Scope, AllPartitions, 100)).Select(r => System.Text.Encoding.UTF8.GetString(r.Key)));
    }

    [Fact]
    public async Task Null_or_empty_outbox_writes_no_rows()
    {
        await Store.CommitAsync(Batch(null, 1, entities: [Upsert("a", [1])], outbox: null));
        await Store.CommitAsync(Batch(1, 2, entities: [Upsert("b", [1])], outbox: []));

        Assert.Empty(await Store.ReadOutboxAsync(Scope, AllPartitions, 100));
        Assert.Equal(2, (await Store.LoadCheckpointAsync(Scope, 0))!.NextOffset);
    }

    [Fact]
    public async Task Invalid_outbox_message_is_rejected_before_anything_is_written()
    {
        await Store.CommitAsync(Batch(null, 100, shardState: [1], watermark: 7, entities: [Upsert("a", [1], timer: 10)]));

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.CommitAsync(Batch(100, 200, entities: [Upsert("b", [3])], outbox: [Message("t", "ok", [1]), new OutboxMessage("t", [1], null!)])));

        Assert.Contains("#1", error.Message);
        await AssertUnchangedAfterFailedCommit();
        Assert.Empty(await Store.ReadOutboxAsync(Scope, AllPartitions, 100));
    }

    [Fact]
    public async Task A_5000_message_outbox_commits_in_order()
    {
        const int count = 5_000;
        var outbox = Enumerable.Range(0, count).Select(i => Message($"topic-{i % 3}", $"key-{i:D5}", Bytes(i, 16 + i % 100))).ToList();

        var elapsed = Stopwatch.StartNew();
        await Store.CommitAsync(Batch(null, 1, entities: [Upsert("a", [1])], outbox: outbox));
        Output.WriteLine($"{GetType().Name}: committed {count} outbox rows in {elapsed.ElapsedMilliseconds} ms");

        var rows = await Store.ReadOutboxAsync(Scope, [0], count + 10);
        Assert.Equal(outbox.Select(m => Shape(Scope, 0, m)), Shape(rows));
        Assert.Equal(rows.Select(r => r.Id).Order(), rows.Select(r => r.Id));
        Assert.Equal(count, rows.Select(r => r.Id).Distinct().Count());
    }

    /// <summary>The state committed by the failure tests' first batch, which a rejected commit must leave as it was.</summary>
    private async Task AssertUnchangedAfterFailedCommit()
    {
        var checkpoint = await Store.LoadCheckpointAsync(Scope, 0);
        Assert.NotNull(checkpoint);
        Assert.Equal((100L, 7L), (checkpoint.NextOffset, checkpoint.WatermarkMs));
        Assert.Equal([1], checkpoint.ShardState);
        var entities = await ReadAll(Scope);
        var only = Assert.Single(entities);
        Assert.Equal(("a", 10L), (only.Key, only.NextTimerMs));
        Assert.Equal([1], only.State);
    }

    private ICheckpointStore Open(string location)
    {
        var store = OpenStore(location);
        _stores.Add(store);
        return store;
    }

    private async Task<List<StoredEntity>> ReadAll(string scope, int? partition = null, ICheckpointStore? store = null)
    {
        var result = new List<StoredEntity>();
        await foreach (var entity in (store ?? Store).ReadEntitiesAsync(scope, partition))
            result.Add(entity);
        return result;
    }

    private static CheckpointBatch Batch(long? expected, long next, string scope = Scope, int partition = 0,
        byte[]? shardState = null, long watermark = 0, IReadOnlyList<EntityWrite>? entities = null, IReadOnlyList<OutboxMessage>? outbox = null) =>
        new(scope, partition, expected, next, watermark, shardState, entities ?? [], outbox);

    private static OutboxMessage Message(string topic, string key, byte[] value) => new(topic, System.Text.Encoding.UTF8.GetBytes(key), value);

    private static readonly int[] AllPartitions = [.. Enumerable.Range(0, 16)];

    /// <summary>(scope, partition, topic, key, value) of stored rows, to compare with what was committed.</summary>
    private static (string, int, string, string, string)[] Shape(IEnumerable<StoredOutboxMessage> rows) =>
        [.. rows.Select(r => (r.Scope, r.Partition, r.Topic, Convert.ToHexString(r.Key), Convert.ToHexString(r.Value)))];

    private static (string, int, string, string, string) Shape(string scope, int partition, OutboxMessage m) =>
        (scope, partition, m.Topic, Convert.ToHexString(m.Key), Convert.ToHexString(m.Value));

    private static EntityWrite Upsert(string key, byte[] state, long? timer = null) => new(key, state, timer);

    private static EntityWrite Delete(string key) => new(key, null, null);

    private static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Records compare byte arrays by reference; checkpoints are equal here when their bytes are.</summary>
    private sealed class CheckpointComparer : IEqualityComparer<PartitionCheckpoint?>
    {
        public static readonly CheckpointComparer Instance = new();

        public bool Equals(PartitionCheckpoint? x, PartitionCheckpoint? y) =>
            x is not null && y is not null
            && (x.Scope, x.Partition, x.NextOffset, x.WatermarkMs) == (y.Scope, y.Partition, y.NextOffset, y.WatermarkMs)
            && (x.ShardState ?? []).AsSpan().SequenceEqual(y.ShardState ?? [])
            && (x.ShardState is null) == (y.ShardState is null);

        public int GetHashCode(PartitionCheckpoint? obj) => HashCode.Combine(obj?.Scope, obj?.Partition, obj?.NextOffset);
    }
}
