using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Experiments.Assignment;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// Group commit for new sticky assignments: concurrent requests queue their candidates and one loop writes
/// everything waiting in a single transaction (up to <see cref="ExperimentOptions.AssignmentWriteBatch"/>), so a
/// burst of new users costs one durable commit rather than one each. A request is answered only after its
/// assignment is stored (or the store returned an earlier winner), which is what makes stickiness hold across nodes.
/// </summary>
public sealed class AssignmentWriter : IAsyncDisposable
{
    private readonly Channel<(StoredAssignment Candidate, TaskCompletionSource<StoredAssignment> Done)> _queue =
        Channel.CreateUnbounded<(StoredAssignment, TaskCompletionSource<StoredAssignment>)>(new() { SingleReader = true });
    private readonly IAssignmentStore _store;
    private readonly int _batch;
    private readonly ILogger _log;
    private readonly Task _loop;

    public AssignmentWriter(IAssignmentStore store, int batch, ILogger<AssignmentWriter> log)
    {
        (_store, _batch, _log) = (store, batch, log);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Transactions committed so far (for the benchmark: requests per commit).</summary>
    public long Commits { get; private set; }

    /// <summary>Stores the candidate unless the user already has an assignment; returns what is stored.</summary>
    public Task<StoredAssignment> AddIfAbsentAsync(StoredAssignment candidate)
    {
        var done = new TaskCompletionSource<StoredAssignment>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((candidate, done))) done.SetException(new ObjectDisposedException(nameof(AssignmentWriter)));
        return done.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<(StoredAssignment Candidate, TaskCompletionSource<StoredAssignment> Done)>(_batch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _batch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                // Duplicates within a batch (the same user asked twice at once) are fine: the second insert is skipped.
                var stored = await _store.AddIfAbsentAsync(batch.Select(b => b.Candidate).ToList()).ConfigureAwait(false);
                Commits++;
                var byKey = new Dictionary<(string, string), StoredAssignment>();
                foreach (var s in stored) byKey[(s.ExperimentId, s.UserKey)] = s;
                foreach (var (candidate, done) in batch)
                {
                    if (byKey.TryGetValue((candidate.ExperimentId, candidate.UserKey), out var s)) done.TrySetResult(s);
                    else done.TrySetException(new InvalidOperationException($"assignment of {candidate.UserKey} to {candidate.ExperimentId} was not stored"));
                }
            }
            catch (Exception e)
            {
                // The store is unavailable: fail these requests (the API answers 503) rather than serve an unsaved variant.
                _log.LogWarning(e, "Storing {Count} new assignments failed", batch.Count);
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
