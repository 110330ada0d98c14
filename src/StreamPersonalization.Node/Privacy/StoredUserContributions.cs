using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Node.Privacy;

/// <summary>
/// Reads every stored user entity (scope <c>users</c>, all partitions) and returns each active user's contribution to one
/// period (<see cref="CohortContributions.For"/>). A batch read of the store rather than a stream: the result is exact for
/// whatever the shards have checkpointed. Rows that cannot be read are skipped and counted, so one corrupt row cannot block
/// every release.
/// </summary>
public sealed class StoredUserContributions(ICheckpointStore store, SegmentCatalog catalog, HalfLifeDecay decay)
{
    /// <summary>Scope of the user entities.</summary>
    public const string Scope = StreamNode.Scope;

    /// <summary>The contributions, and how many stored rows could not be read.</summary>
    public async Task<(List<UserContribution> Contributions, int Unreadable)> ReadAsync(CohortPeriod period, CohortBands bands, CancellationToken ct)
    {
        var contributions = new List<UserContribution>();
        var unreadable = 0;
        await foreach (var row in store.ReadEntitiesAsync(Scope, null, ct).ConfigureAwait(false))
        {
            UserEntity user;
            try { user = UserStateSerializer.Deserialize(row.Key, row.State, catalog); }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { unreadable++; continue; }
            if (CohortContributions.For(user, period, bands, decay) is { } c) contributions.Add(c);
        }
        return (contributions, unreadable);
    }

    /// <summary>The stream's event-time clock: the largest watermark of the users' partition checkpoints (null when none).</summary>
    public async Task<long?> WatermarkAsync(CancellationToken ct)
    {
        var checkpoints = await store.LoadCheckpointsAsync(Scope, ct).ConfigureAwait(false);
        return checkpoints.Count == 0 ? null : checkpoints.Max(c => c.WatermarkMs);
    }
}
