using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Entity code threw while applying one event to its user (a poison record). The shard's in-memory state may be
/// half-changed: the caller rewinds it (<see cref="PoisonRecordGuard"/>), it must not be checkpointed as it is.
/// </summary>
public sealed class PoisonRecordException(ClickEvent e, Exception inner)
    : Exception($"Processing event {e.EventId} of user {e.UserId} threw {inner.GetType().Name}: {inner.Message}", inner)
{
    public ClickEvent Event { get; } = e;

    /// <summary>The dead letter's detail: the exception type and message (deterministic, no stack trace).</summary>
    public string Detail => $"{InnerException!.GetType().FullName}: {InnerException.Message}";
}

/// <summary>
/// A user's stored state could not be read or decoded (store unavailable, corrupt or unknown format). Not the
/// record's fault, so never dead-lettered: the shard stops making progress and reports it.
/// </summary>
public sealed class EntityStateException(string key, Exception inner)
    : Exception($"State of entity '{key}' could not be loaded: {inner.Message}", inner)
{
    public string Key { get; } = key;
}
