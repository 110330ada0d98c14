using System.Threading.Channels;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// Coalesces concurrent single-key requests into one batched call: requests queue their key, and one loop hands
/// everything queued (up to <c>maxBatch</c>) to a single call while the next requests gather. Under load one store
/// round trip then serves many requests; with no load a request costs one round trip (no waiting for a timer). Used
/// for reads (sticky assignments, user facts) and for the group commit of new assignments (<see cref="AssignmentWriter"/>).
/// </summary>
public sealed class KeyBatcher<TKey, TValue> : IAsyncDisposable where TKey : notnull where TValue : class
{
    private readonly Channel<(TKey Key, TaskCompletionSource<TValue?> Done)> _queue =
        Channel.CreateUnbounded<(TKey, TaskCompletionSource<TValue?>)>(new() { SingleReader = true });
    private readonly Func<IReadOnlyCollection<TKey>, Task<IReadOnlyDictionary<TKey, TValue>>> _load;
    private readonly int _maxBatch;
    private readonly Task _loop;

    public KeyBatcher(Func<IReadOnlyCollection<TKey>, Task<IReadOnlyDictionary<TKey, TValue>>> load, int maxBatch = 512)
    {
        (_load, _maxBatch) = (load, maxBatch);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Batched loads so far.</summary>
    public long Loads { get; private set; }

    /// <summary>The value of <paramref name="key"/>, or null when the load found none.</summary>
    public Task<TValue?> GetAsync(TKey key)
    {
        var done = new TaskCompletionSource<TValue?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((key, done))) done.SetException(new ObjectDisposedException(nameof(KeyBatcher<TKey, TValue>)));
        return done.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<(TKey Key, TaskCompletionSource<TValue?> Done)>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                var found = await _load(batch.Select(b => b.Key).Distinct().ToList()).ConfigureAwait(false);
                Loads++;
                foreach (var (key, done) in batch) done.TrySetResult(found.GetValueOrDefault(key));
            }
            catch (Exception e)
            {
                foreach (var (_, done) in batch) done.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
