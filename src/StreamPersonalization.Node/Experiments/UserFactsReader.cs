using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Node.Experiments;

/// <summary>What assignment needs to know about a user, as of the owning shard's last checkpoint.</summary>
/// <param name="Known">False when the store has no state for the user (never seen, deleted by retention, or erased).</param>
/// <param name="ConsentWithdrawn">The user withdrew consent to personalization.</param>
public sealed record UserFacts(bool Known, ulong SegmentMask, string? Country, string? Device, bool ConsentWithdrawn = false)
{
    /// <summary>A user the store knows nothing about.</summary>
    public static UserFacts Unknown { get; } = new(false, 0, null, null);
}

/// <summary>
/// Reads <see cref="UserFacts"/> from the user stage's stored entities (any partition: the API node may not own the
/// user), keeping each answer for <paramref name="ttl"/> so repeated requests do not each read the store. A consent
/// withdrawal therefore reaches assignment within one checkpoint interval plus the TTL. Concurrent reads are
/// coalesced into one query (<see cref="KeyBatcher{TKey, TValue}"/>).
/// </summary>
public sealed class UserFactsReader(IEntityLookup lookup, SegmentCatalog segments, TimeSpan ttl = default, TimeProvider? time = null)
{
    /// <summary>Scope of user entities in the store (see the shard runner).</summary>
    public const string UsersScope = StreamNode.Scope;

    private readonly TtlCache<string, UserFacts> _cache = new(ttl, 1_000_000, time, StringComparer.Ordinal);
    private readonly KeyBatcher<string, byte[]> _states = new(keys => lookup.FindEntitiesAsync(UsersScope, keys));

    /// <param name="userKey">The key the store uses (the pseudonym when pseudonymisation is on).</param>
    public async Task<UserFacts> ReadAsync(string userKey, CancellationToken ct)
    {
        if (_cache.TryGet(userKey, out var hit)) return hit;
        var state = await _states.GetAsync(userKey).WaitAsync(ct).ConfigureAwait(false);
        UserFacts facts;
        if (state is null) facts = UserFacts.Unknown;
        else
        {
            var user = UserStateSerializer.Deserialize(userKey, state, segments);
            facts = new(true, user.Membership, user.Engagement.Country, user.Engagement.Device, user.ConsentWithdrawn);
        }
        _cache.Set(userKey, facts);
        return facts;
    }

    /// <summary>Drops this node's cached facts of a user (erasure through this node).</summary>
    public void Forget(string userKey) => _cache.Remove(userKey);
}
