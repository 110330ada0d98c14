using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Node.Http;

/// <summary>What the user routes (explanation, erasure) need from the node.</summary>
/// <param name="RequestErasure">Produces a <c>forget</c> event for the raw user id into the clickstream (so the owning shard erases the state in order).</param>
public sealed record UserServices(
    IEntityLookup Lookup,
    SegmentCatalog Segments,
    HalfLifeDecay Decay,
    IAssignmentStore Assignments,
    Func<string?, bool> PersonalizationOff,
    Func<string, CancellationToken, Task> RequestErasure)
{
    /// <summary>Asks a user's actor for its current state (ahead of the committed row); null: the row only.</summary>
    public ILiveUserState? Live { get; init; }
}

/// <summary>A user's state as its actor holds it now, asked through the <c>user</c> region (any node, any user).</summary>
public interface ILiveUserState
{
    /// <summary>The actor's state (<see cref="Runtime.Users.UserStateReply.State"/> null: it has none: erased, or never
    /// seen); null when no actor holds the user in memory or none answered in time: read the committed row.</summary>
    /// <param name="userId">The raw id, as the clickstream's key (it decides the partition).</param>
    /// <param name="key">The stored (pseudonymised) id: the entity id.</param>
    Task<Runtime.Users.UserStateReply?> FindAsync(string userId, string key, CancellationToken ct);
}
