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
    Func<string, CancellationToken, Task> RequestErasure);
