using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Consent, erasure and the retention limit for one user (<see cref="ShardOptions.Privacy"/>).
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
public sealed partial class UserProcessor
{
    /// <summary>Consent and forget events, and events of users without consent; true when the event needs nothing more.</summary>
    private bool HandledByPrivacy(UserEntity entity, ClickEvent e, IUserEffects fx, out bool erased)
    {
        erased = false;
        switch (e.Type)
        {
            case EventType.Forget:
                Erase(entity, e.TimestampMs, fx);
                erased = true;
                return true;
            case EventType.Consent when e.ConsentGranted == false:
                if (!entity.ConsentWithdrawn) WithdrawConsent(entity, e.TimestampMs, fx);
                fx.Dirty(entity);
                return true;
            case EventType.Consent when entity.ConsentWithdrawn:
                // Granted again: a fresh start (the wiped state is already empty; the sequence keeps record ids unique).
                entity.ConsentWithdrawn = false;
                fx.Counters.Count(PrivacyCounter.ConsentGranted);
                return false;
            case EventType.Consent:
                return false;
            default:
                if (!entity.ConsentWithdrawn) return false;
                fx.Counters.Count(PrivacyCounter.EventsWithoutConsent);
                fx.Dirty(entity);   // its duplicate-id window moved
                return true;
        }
    }

    /// <summary>Exits every segment (transitions emitted), then keeps only the consent flag (and the output sequence).</summary>
    private void WithdrawConsent(UserEntity entity, long atMs, IUserEffects fx)
    {
        var members = entity.Membership;
        while (members != 0)
        {
            var bit = System.Numerics.BitOperations.TrailingZeroCount(members);
            members &= members - 1;
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, _catalog.Segments[bit].Id, false, _catalog.Version, atMs, EvaluationCause.ConsentWithdrawn), fx);
        }
        foreach (var id in entity.RetiredMemberships ?? [])
            Emit(new SegmentTransition(entity.Key, entity.Sequence++, id, false, _catalog.Version, atMs, EvaluationCause.ConsentWithdrawn), fx);
        entity.Membership = 0;
        entity.RetiredMemberships = null;
        entity.Sessions.Restore([]);
        entity.Engagement.Clear();
        fx.Attribution?.Erase(entity.Exposures);   // the aggregates no longer count the user (a later grant may expose them afresh)
        entity.Exposures = null;
        entity.RecentEventIds = null;
        entity.NextReevaluationMs = long.MaxValue;
        entity.ConsentWithdrawn = true;
        fx.Withdrew(entity.Key);   // its sticky assignments go with the checkpoint: a later grant starts without them
        fx.Counters.Count(PrivacyCounter.ConsentWithdrawn);
    }

    /// <summary>Erasure: contributions taken back, tombstones emitted, the row deleted and the assignments erased at the next checkpoint.</summary>
    private static void Erase(UserEntity entity, long atMs, IUserEffects fx)
    {
        fx.Attribution?.Erase(entity.Exposures);
        fx.Emit(new UserErased(entity.Key, atMs));
        fx.Erased(entity.Key);
        fx.Deleted(entity);
        fx.Counters.Count(PrivacyCounter.Erasures);
    }

    private bool PersonalizationOff(UserEntity entity) => entity.ConsentWithdrawn || _options.Privacy.PersonalizationOff(entity.Engagement.Country);

    private long RetentionDue(UserEntity e)
    {
        var retention = _options.Privacy.RetentionMs;
        var last = e.Engagement.LastEventMs;
        return retention <= 0 || last == long.MinValue ? long.MaxValue : last + retention;
    }

    private bool RetentionExpired(UserEntity e, long nowMs) => RetentionDue(e) <= nowMs;
}
