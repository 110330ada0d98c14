using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Runtime.Users;

/// <summary>Where a user actor reads its committed state (the seam around the state store).</summary>
public interface IUserStateLoader
{
    /// <summary>The user's committed row (null: none), read only while the partition's checkpoint is still at
    /// <paramref name="expectedNextOffset"/>; throws <see cref="CheckpointConflictException"/> when another owner moved it.</summary>
    Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default);
}

/// <summary>
/// Reads user rows from the node's checkpoint store (scope <c>users</c>), fenced on the partition's offset. Loads are
/// coalesced: the requests of one partition and checkpoint waiting while earlier reads run go to the store as one
/// query (at most <c>maxBatch</c> keys), with at most <c>maxConcurrentLoads</c> queries at a time. A round wakes
/// hundreds of users whose state is not in memory, and a UTC day boundary wakes every user with a pending timer: one
/// connection and one prepared statement per user cost more than the read (the profile of <c>sp bench --only e2e</c>
/// showed 13 % of the node's CPU there), and unbounded, tens of thousands of loads each took a store connection whose
/// pool (with a page cache per connection) grew and stayed grown.
/// </summary>
public sealed class CheckpointStoreUserStateLoader : IUserStateLoader
{
    public const string Scope = "users";

    private readonly ICheckpointStore _store;
    private readonly string _scope;
    private readonly int _maxConcurrentLoads;
    private readonly int _maxBatch;
    private readonly object _gate = new();
    // Waiting requests by (partition, expected offset), in arrival order of their groups.
    private readonly Dictionary<(int Partition, long? Expected), List<Pending>> _waiting = new();
    private readonly Queue<(int Partition, long? Expected)> _order = new();
    private int _running;
    private long _queries;

    public CheckpointStoreUserStateLoader(ICheckpointStore store, string scope = Scope, int maxConcurrentLoads = 8, int maxBatch = 500)
    {
        _store = store;
        _scope = scope;
        _maxConcurrentLoads = maxConcurrentLoads >= 1 ? maxConcurrentLoads
            : throw new ArgumentOutOfRangeException(nameof(maxConcurrentLoads), maxConcurrentLoads, "at least 1 concurrent load");
        _maxBatch = maxBatch >= 1 ? maxBatch : throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "at least 1 key per query");
    }

    /// <summary>Store queries issued so far (each reads up to <c>maxBatch</c> users).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    public Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        if (ct.IsCancellationRequested) return Task.FromCanceled<byte[]?>(ct);
        var pending = new Pending(key, ct);
        var start = false;
        lock (_gate)
        {
            var group = (partition, expectedNextOffset);
            if (!_waiting.TryGetValue(group, out var list))
            {
                _waiting[group] = list = [];
                _order.Enqueue(group);
            }
            list.Add(pending);
            if (_running < _maxConcurrentLoads) { _running++; start = true; }
        }
        if (start) _ = Task.Run(DrainAsync, CancellationToken.None);
        return pending.Done.Task;
    }

    /// <summary>One of at most maxConcurrentLoads readers: takes the oldest group's waiting requests until none are left.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            (int Partition, long? Expected) group;
            List<Pending> batch;
            lock (_gate)
            {
                if (_order.Count == 0) { _running--; return; }
                group = _order.Peek();
                var list = _waiting[group];
                if (list.Count <= _maxBatch)
                {
                    batch = list;
                    _waiting.Remove(group);
                    _order.Dequeue();
                }
                else
                {
                    batch = list.GetRange(0, _maxBatch);
                    list.RemoveRange(0, _maxBatch);
                }
            }
            await LoadBatchAsync(group.Partition, group.Expected, batch).ConfigureAwait(false);
        }
    }

    private async Task LoadBatchAsync(int partition, long? expected, List<Pending> batch)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in batch)
            if (!p.Cancelled) keys.Add(p.Key);
        if (keys.Count == 0) return;
        try
        {
            Interlocked.Increment(ref _queries);
            var rows = await _store.LoadOwnedEntitiesAsync(_scope, partition, keys, expected).ConfigureAwait(false);
            foreach (var p in batch) p.Complete(rows.GetValueOrDefault(p.Key), null);
        }
        catch (Exception e)
        {
            // Fenced or unavailable: the same for every user of the group (one partition, one checkpoint).
            foreach (var p in batch) p.Complete(null, e);
        }
    }

    private sealed class Pending
    {
        public readonly string Key;
        public readonly TaskCompletionSource<byte[]?> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _cancel;

        public Pending(string key, CancellationToken ct)
        {
            Key = key;
            if (ct.CanBeCanceled) _cancel = ct.Register(() => Done.TrySetCanceled(ct));
        }

        public bool Cancelled => Done.Task.IsCanceled;

        public void Complete(byte[]? state, Exception? error)
        {
            if (error is null) Done.TrySetResult(state);
            else Done.TrySetException(error);
            _cancel.Dispose();
        }
    }
}
