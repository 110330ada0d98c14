using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Experiments.Assignment;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// Group commit for new sticky assignments: concurrent requests queue their candidates and one loop writes
/// everything waiting in a single transaction (up to <see cref="ExperimentOptions.AssignmentWriteBatch"/>), so a
/// burst of new users costs one durable commit rather than one each (the batching is <see cref="KeyBatcher{TKey, TValue}"/>'s).
/// A request is answered only after its assignment is stored (or the store returned an earlier winner), which is
/// what makes stickiness hold across nodes.
/// </summary>
public sealed class AssignmentWriter : IAsyncDisposable
{
    private readonly KeyBatcher<StoredAssignment, StoredAssignment> _commits;

    public AssignmentWriter(IAssignmentStore store, int batch, ILogger<AssignmentWriter> log)
    {
        _commits = new(async candidates =>
        {
            IReadOnlyList<StoredAssignment> stored;
            try
            {
                // Duplicates within a batch (the same user asked twice at once) are fine: the second insert is skipped.
                stored = await store.AddIfAbsentAsync(candidates.ToList()).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The store is unavailable: these requests fail (the API answers 503) rather than serve an unsaved variant.
                log.LogWarning(e, "Storing {Count} new assignments failed", candidates.Count);
                throw;
            }
            var byUser = new Dictionary<(string, string), StoredAssignment>();
            foreach (var s in stored) byUser[(s.ExperimentId, s.UserKey)] = s;
            var answers = new Dictionary<StoredAssignment, StoredAssignment>();
            foreach (var c in candidates)
                if (byUser.TryGetValue((c.ExperimentId, c.UserKey), out var s)) answers[c] = s;
            return answers;
        }, batch);
    }

    /// <summary>Transactions committed so far (for the benchmark: requests per commit).</summary>
    public long Commits => _commits.Loads;

    /// <summary>Stores the candidate unless the user already has an assignment; returns what is stored.</summary>
    public async Task<StoredAssignment> AddIfAbsentAsync(StoredAssignment candidate) =>
        await _commits.GetAsync(candidate).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"assignment of {candidate.UserKey} to {candidate.ExperimentId} was not stored");

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}
