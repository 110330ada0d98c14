using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Runtime.Tests.Users;

/// <summary>The loader coalesces the loads that wait behind running reads into one query per partition and checkpoint;
/// every user still gets exactly the row a load of its own reads.</summary>
public sealed class CheckpointStoreUserStateLoaderTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sp-loader-" + Guid.NewGuid().ToString("n"));
    private SqliteCheckpointStore _sqlite = null!;
    private GatedStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _sqlite = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "state.db") });
        await _sqlite.InitializeAsync();
        // Partition 0 at offset 10 with 300 users (every third has no row); partition 1 at offset 4.
        await _sqlite.CommitAsync(new CheckpointBatch("users", 0, null, 10, 0, null,
            Enumerable.Range(0, 300).Where(i => i % 3 != 0).Select(i => new EntityWrite($"u{i}", [(byte)i, 1], null)).ToList()));
        await _sqlite.CommitAsync(new CheckpointBatch("users", 1, null, 4, 0, null, [new EntityWrite("u1", [42], null)]));
        _store = new GatedStore(_sqlite);
    }

    public async Task DisposeAsync()
    {
        await _sqlite.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task LoadAsync_CoalescesWaitingLoadsIntoOneQueryPerPartitionAndCheckpoint()
    {
        var loader = new CheckpointStoreUserStateLoader(_store, maxConcurrentLoads: 1, maxBatch: 250);
        _store.Gate = new TaskCompletionSource();
        var first = loader.LoadAsync(0, "u1", 10);   // takes the only reader, which waits at the gate
        await Eventually.UntilAsync(() => _store.Queries == 1, TimeSpan.FromSeconds(10));
        var waiting = Enumerable.Range(0, 300).Select(i => (Partition: 0, Key: $"u{i}", Task: loader.LoadAsync(0, $"u{i}", 10))).ToList();
        var other = loader.LoadAsync(1, "u1", 4);
        _store.Gate.SetResult();

        Assert.Equal([1, 1], await first);
        foreach (var (partition, key, task) in waiting) Assert.Equal(await _sqlite.LoadOwnedEntityAsync("users", partition, key, 10), await task);
        Assert.Equal([42], await other);
        // The first alone, the 300 waiting ones of partition 0 in two queries of ≤ 250, partition 1's in one.
        Assert.Equal(4, loader.Queries);
        Assert.Equal([1, 250, 50, 1], _store.Sizes);
    }

    [Fact]
    public async Task LoadAsync_FencedGroupFailsEveryWaiterWithTheConflict_OtherGroupsLoad()
    {
        var loader = new CheckpointStoreUserStateLoader(_store, maxConcurrentLoads: 1);
        _store.Gate = new TaskCompletionSource();
        var first = loader.LoadAsync(1, "u1", 4);
        await Eventually.UntilAsync(() => _store.Queries == 1, TimeSpan.FromSeconds(10));
        var zombie = Enumerable.Range(0, 5).Select(i => loader.LoadAsync(0, $"u{i}", expectedNextOffset: 3)).ToList();   // the checkpoint is at 10
        var owner = loader.LoadAsync(0, "u2", 10);
        _store.Gate.SetResult();

        Assert.Equal([42], await first);
        foreach (var task in zombie)
        {
            var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => task);
            Assert.Equal((3L, 10L), (conflict.Expected, conflict.Actual));
        }
        Assert.Equal([2, 1], await owner);
    }

    [Fact]
    public async Task LoadAsync_CancelledWhileWaiting_IsCancelledAndNotQueried_StoreErrorsReachTheirWaiters()
    {
        var loader = new CheckpointStoreUserStateLoader(_store, maxConcurrentLoads: 1);
        _store.Gate = new TaskCompletionSource();
        var first = loader.LoadAsync(0, "u1", 10);
        await Eventually.UntilAsync(() => _store.Queries == 1, TimeSpan.FromSeconds(10));
        using var cancel = new CancellationTokenSource();
        var cancelled = loader.LoadAsync(0, "u2", 10, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        _store.Fail = new IOException("database unavailable (test)");
        var failing = loader.LoadAsync(1, "u1", 4);
        _store.Gate.SetResult();

        Assert.Equal([1, 1], await first);   // the gate's query was running before the failure was set
        Assert.Equal("database unavailable (test)", (await Assert.ThrowsAsync<IOException>(() => failing)).Message);
        Assert.Equal([1, 1], _store.Sizes);   // the cancelled load cost no query
        _store.Fail = null;
        Assert.Equal([42], await loader.LoadAsync(1, "u1", 4));   // the reader is free again
    }

    /// <summary>The real store, whose batch loads wait at <see cref="Gate"/> and can be made to fail.</summary>
    private sealed class GatedStore(ICheckpointStore inner) : ICheckpointStore
    {
        public TaskCompletionSource? Gate;
        public volatile Exception? Fail;
        public readonly List<int> Sizes = [];
        private int _queries;

        public int Queries => Volatile.Read(ref _queries);

        public async Task<IReadOnlyDictionary<string, byte[]>> LoadOwnedEntitiesAsync(string scope, int partition, IReadOnlyCollection<string> keys,
            long? expectedNextOffset, CancellationToken ct = default)
        {
            var fail = Fail;
            lock (Sizes) Sizes.Add(keys.Count);
            Interlocked.Increment(ref _queries);
            if (Gate is { } gate) await gate.Task;
            if (fail is not null) throw fail;
            return await inner.LoadOwnedEntitiesAsync(scope, partition, keys, expectedNextOffset, ct);
        }

        public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);
        public Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default) => inner.LoadCheckpointAsync(scope, partition, ct);
        public Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default) => inner.LoadEntityAsync(scope, partition, key, ct);
        public Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default) => inner.LoadTimersAsync(scope, partition, ct);
        public Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default) => inner.CommitAsync(batch, ct);
        public IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, CancellationToken ct = default) => inner.ReadEntitiesAsync(scope, partition, ct);
        public Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default) => inner.LoadCheckpointsAsync(scope, ct);
        public Task<IReadOnlyList<StoredOutboxMessage>> ReadOutboxAsync(string scope, IReadOnlyCollection<int> partitions, int max, CancellationToken ct = default) =>
            inner.ReadOutboxAsync(scope, partitions, max, ct);
        public Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) => inner.DeleteOutboxAsync(ids, ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
