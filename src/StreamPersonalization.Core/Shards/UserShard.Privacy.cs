using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Privacy in the user shard: pseudonymisation and property minimisation at ingest, consent, erasure, the
/// retention limit and per-market switches (<see cref="ShardOptions.Privacy"/>).
/// <code>
///                 consent withdrawn                       consent granted
///   [personalized] ─────────────────▶ [consent flag only] ─────────────────▶ [personalized, empty]
///        │  exits emitted, experiment       │ events counted, not applied
///        │  contributions taken back,       │
///        │  state and sticky assignments    │
///        │  wiped                           │
///        │ forget / retention               │ forget
///        ▼                                  ▼
///   [absent: row deleted at the next checkpoint; forget also takes back experiment contributions,
///    tombstones the user's keyed outputs and erases stored assignments with an audit entry]
/// </code>
/// </summary>
public sealed partial class UserShard
{
    /// <summary>The decoded event (already pseudonymised by the decoder), with property drops counted.</summary>
    private ClickEvent Ingested(DecodeResult decoded)
    {
        if (decoded.Properties is { Dropped.Total: > 0 } p) CountDrops(p.Dropped);
        return decoded.Event!;
    }

    private void CountDrops(PropertyDropCounts d)
    {
        Counters.Count(PrivacyCounter.PropertyNotAllowlisted, d.NotAllowlisted);
        Counters.Count(PrivacyCounter.PropertyPiiEmail, d.PiiEmail);
        Counters.Count(PrivacyCounter.PropertyPiiPhone, d.PiiPhone);
        Counters.Count(PrivacyCounter.PropertyPiiIp, d.PiiIp);
        Counters.Count(PrivacyCounter.PropertyNotScalar, d.NotScalar);
    }

    /// <summary>A dead letter's source with raw ids replaced when pseudonymisation is on.</summary>
    private InputRecord Redacted(InputRecord record) =>
        _pseudonyms is null ? record : DeadLetterRedactor.Redact(record, id => _pseudonyms.Get(id));

    /// <summary>Consent and forget events, and events of users without consent; true when the event needs nothing more.</summary>
    private bool HandledByPrivacy(UserEntity entity, ClickEvent e)
    {
        switch (e.Type)
        {
            case EventType.Forget:
                Erase(entity, e.TimestampMs);
                return true;
            case EventType.Consent when e.ConsentGranted == false:
                if (!entity.ConsentWithdrawn) WithdrawConsent(entity, e.TimestampMs);
                MarkDirty(entity);
                return true;
            case EventType.Consent when entity.ConsentWithdrawn:
                // Granted again: a fresh start (the wiped state is already empty; the sequence keeps record ids unique).
                entity.ConsentWithdrawn = false;
                Counters.Count(PrivacyCounter.ConsentGranted);
                return false;
            case EventType.Consent:
                return false;
            default:
                if (!entity.ConsentWithdrawn) return false;
                Counters.Count(PrivacyCounter.EventsWithoutConsent);
                MarkDirty(entity);   // its duplicate-id window moved
                return true;
        }
    }

    /// <summary>Exits every segment (transitions emitted), then keeps only the consent flag (and the output sequence).</summary>
    private void WithdrawConsent(UserEntity entity, long atMs)
    {
        var members = entity.Membership;
        while (members != 0)
        {
            var bit = System.Numerics.BitOperations.TrailingZeroCount(members);
            members &= members - 1;
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, _catalog.Segments[bit].Id, false, _catalog.Version, atMs, EvaluationCause.ConsentWithdrawn));
        }
        foreach (var id in entity.RetiredMemberships ?? [])
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, id, false, _catalog.Version, atMs, EvaluationCause.ConsentWithdrawn));
        entity.Membership = 0;
        entity.RetiredMemberships = null;
        entity.Sessions.Restore([]);
        entity.Engagement.Clear();
        _attribution?.Erase(entity.Exposures);   // the aggregates no longer count the user (a later grant may expose them afresh)
        entity.Exposures = null;
        entity.RecentEventIds = null;
        entity.NextReevaluationMs = long.MaxValue;
        entity.ConsentWithdrawn = true;
        _withdrawals.Add(entity.Key);   // its sticky assignments go with the checkpoint: a later grant starts without them
        Counters.Count(PrivacyCounter.ConsentWithdrawn);
    }

    /// <summary>Erasure: contributions taken back, tombstones emitted, the row deleted and the assignments erased at the next checkpoint.</summary>
    private void Erase(UserEntity entity, long atMs)
    {
        _attribution?.Erase(entity.Exposures);
        _pending.Add(new UserErased(entity.Key, atMs));
        _erasures.Add(entity.Key);
        DeleteEntity(entity);
        Counters.Count(PrivacyCounter.Erasures);
    }

    /// <summary>Drops the entity now and deletes its stored row at the next checkpoint.</summary>
    private void DeleteEntity(UserEntity entity)
    {
        _resident.Remove(entity.Key);
        if (entity.Dirty) { _dirty.Remove(entity); entity.Dirty = false; }
        _deletedKeys.Add(entity.Key);
    }

    private bool PersonalizationOff(UserEntity entity) => entity.ConsentWithdrawn || _options.Privacy.PersonalizationOff(entity.Engagement.Country);

    private long RetentionDue(UserEntity e)
    {
        var retention = _options.Privacy.RetentionMs;
        var last = e.Engagement.LastEventMs;
        return retention <= 0 || last == long.MinValue ? long.MaxValue : last + retention;
    }

    private bool RetentionExpired(UserEntity e, long nowMs) => RetentionDue(e) <= nowMs;

    /// <summary>Users erased since the last call (their stored assignments are deleted and audited in the checkpoint transaction).</summary>
    public IReadOnlyList<string> TakeErasures() => Take(_erasures);

    /// <summary>Users who withdrew consent since the last call (their stored assignments are deleted in the checkpoint transaction).</summary>
    public IReadOnlyList<string> TakeWithdrawals() => Take(_withdrawals);

    private static string[] Take(List<string> keys)
    {
        if (keys.Count == 0) return [];
        var taken = keys.ToArray();
        keys.Clear();
        return taken;
    }
}
