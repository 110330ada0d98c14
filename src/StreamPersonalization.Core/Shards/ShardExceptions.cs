using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Entity code threw while applying one event to its user (a poison record). The shard's in-memory state may be
/// half-changed: the caller rewinds it (<see cref="PoisonRecordGuard"/>), it must not be checkpointed as it is.
/// </summary>
public sealed class PoisonRecordException : Exception
{
    public PoisonRecordException(ClickEvent e, Exception inner)
        : base($"Processing event {e.EventId} of user {e.UserId} threw {inner.GetType().Name}: {inner.Message}", inner)
    {
        Event = e;
        ErrorType = inner.GetType().FullName!;
        Detail = $"{ErrorType}: {inner.Message}";
    }

    /// <summary>The same failure received from another node (its exception object stays there).</summary>
    public PoisonRecordException(ClickEvent e, string errorType, string detail)
        : base($"Processing event {e.EventId} of user {e.UserId} threw {detail}")
    {
        Event = e;
        ErrorType = errorType;
        Detail = detail;
    }

    public ClickEvent Event { get; }

    /// <summary>Full name of the exception type entity code threw.</summary>
    public string ErrorType { get; }

    /// <summary>The dead letter's detail: the exception type and message (deterministic, no stack trace).</summary>
    public string Detail { get; }
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
