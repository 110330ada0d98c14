using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Test seam for poison records: lets a test make entity code throw for chosen events, deterministically, without a
/// magic production event. Set through <see cref="ShardOptions.FaultInjector"/>; never set in production.
/// </summary>
public interface IEntityFaultInjector
{
    /// <summary>
    /// Called while <paramref name="e"/> is applied to its user entity, after the entity's sessions and engagement
    /// have changed and before its segments are evaluated — the worst place to fail: the entity is half-mutated and
    /// the event's watermark advance may already have fired other entities' timers. Throw to simulate a bug.
    /// </summary>
    void OnApplying(ClickEvent e);
}

/// <summary>Throws <see cref="InjectedFaultException"/> for every event whose id is in the set (tests).</summary>
public sealed class ThrowOnEventIds(IEnumerable<string> eventIds) : IEntityFaultInjector
{
    private readonly HashSet<string> _ids = new(eventIds, StringComparer.Ordinal);

    public void OnApplying(ClickEvent e)
    {
        if (_ids.Contains(e.EventId)) throw new InjectedFaultException($"injected fault while applying event {e.EventId} of {e.UserId}");
    }

    public override string ToString() => $"ThrowOnEventIds({_ids.Count} ids)";
}

public sealed class InjectedFaultException(string message) : Exception(message);
