using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Node.Experiments;

/// <summary>What targeting needs to know about a user, as of the owning shard's last checkpoint.</summary>
/// <param name="Known">False when the store has no state for the user (never seen, passivated-and-deleted, or erased).</param>
public sealed record UserFacts(bool Known, ulong SegmentMask, string? Country, string? Device)
{
    /// <summary>A user the store knows nothing about.</summary>
    public static UserFacts Unknown { get; } = new(false, 0, null, null);
}

/// <summary>Reads <see cref="UserFacts"/> from the user stage's stored entities (any partition: the API node may not own the user).</summary>
public sealed class UserFactsReader(IEntityLookup lookup, SegmentCatalog segments)
{
    /// <summary>Scope of user entities in the store (see the shard runner).</summary>
    public const string UsersScope = Shards.ShardRunner.Scope;

    public async Task<UserFacts> ReadAsync(string userKey, CancellationToken ct)
    {
        var state = await lookup.FindEntityAsync(UsersScope, userKey, ct).ConfigureAwait(false);
        if (state is null) return UserFacts.Unknown;
        var user = UserStateSerializer.Deserialize(userKey, state, segments);
        return new(true, user.Membership, user.Engagement.Country, user.Engagement.Device);
    }
}
