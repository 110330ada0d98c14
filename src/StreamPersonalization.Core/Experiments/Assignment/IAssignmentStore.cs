namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>
/// A variant once answered to a user, kept durably so the user gets it ever after, on every node and after restarts.
/// Only real assignments are stored (reason <c>assigned</c>): a fallback depends on facts that change (targeting,
/// consent, data), so storing it would lock a user out of the experiment forever.
/// </summary>
public sealed record StoredAssignment(string ExperimentId, string UserKey, string Variant, int DefinitionVersion, long AssignedAtMs)
{
    /// <inheritdoc />
    public override string ToString() => $"StoredAssignment({ExperimentId}/{UserKey} → {Variant}, v{DefinitionVersion} @{AssignedAtMs})";
}

/// <summary>
/// Durable sticky assignments per (experiment, user). <see cref="AddIfAbsentAsync"/> is first-writer-wins across
/// every node sharing the store: two nodes answering the same new user concurrently both return the winner's variant.
/// </summary>
public interface IAssignmentStore
{
    /// <summary>Stored assignments of the given users in one experiment (users without one are absent from the result).</summary>
    Task<IReadOnlyList<StoredAssignment>> GetAsync(string experimentId, IReadOnlyCollection<string> userKeys, CancellationToken ct = default);

    /// <summary>
    /// Stores each candidate unless its (experiment, user) already has an assignment, in one transaction, and returns
    /// what is stored afterwards for every candidate (the candidate itself, or the earlier winner).
    /// </summary>
    Task<IReadOnlyList<StoredAssignment>> AddIfAbsentAsync(IReadOnlyList<StoredAssignment> candidates, CancellationToken ct = default);

    /// <summary>Deletes every assignment of a user (erasure); returns how many were deleted.</summary>
    Task<int> DeleteUserAsync(string userKey, CancellationToken ct = default);
}
