using System.Collections.Frozen;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Privacy.Pseudonymization;

namespace StreamPersonalization.Core.Privacy;

/// <summary>
/// What a user shard applies for privacy (built by the node from configuration section <c>Privacy</c>): ids
/// pseudonymised at ingest, properties minimised, idle state deleted after a retention, personalization off in
/// some markets. <see cref="Off"/> changes nothing (tests and benchmarks that compare raw ids).
/// </summary>
public sealed record ShardPrivacy
{
    /// <value>Replaces every user id (and record key) at ingest; null keeps ids as given. Default null.</value>
    public UserIdPseudonymizer? Pseudonymizer { get; init; }

    /// <value>Pseudonyms memoised per shard (a hit costs ~45 ns, a miss the ~0.6 µs HMAC). Default 100,000.</value>
    public int PseudonymCacheCapacity { get; init; } = 100_000;

    /// <value>Property allowlist and PII filter applied by the decoder; null keeps properties unread. Default null.</value>
    public PropertyFilter? Properties { get; init; }

    /// <value>A user with no event for this long (event time) is deleted from the state store; 0 keeps state. Default 0.</value>
    public long RetentionMs { get; init; }

    /// <value>Countries (ISO codes, case-insensitive) where personalization is off: no segment evaluation or emission, fallback variants. Default none.</value>
    public FrozenSet<string> DisabledMarkets { get; init; } = FrozenSet<string>.Empty;

    /// <summary>No privacy processing.</summary>
    public static ShardPrivacy Off { get; } = new();

    /// <summary>Whether personalization is off for a user whose latest country is <paramref name="country"/>.</summary>
    public bool PersonalizationOff(string? country) => country is not null && DisabledMarkets.Count > 0 && DisabledMarkets.Contains(country);

    /// <inheritdoc />
    public override string ToString() =>
        $"ShardPrivacy(pseudonyms={(Pseudonymizer is null ? "off" : Pseudonymizer.KeyId)}, properties={(Properties is null ? "unread" : "allowlisted")}, retention={RetentionMs} ms, disabled markets=[{string.Join(",", DisabledMarkets)}])";
}
