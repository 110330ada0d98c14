namespace StreamPersonalization.Core.Ingest;

/// <summary>Why a record went to <c>dead-letter</c>. The wire code (snake_case) is stable API.</summary>
public enum RejectReason : byte
{
    /// <summary>Value is not a JSON object (not JSON at all, invalid UTF-8, truncated, or a JSON non-object).</summary>
    NotJson = 1,
    /// <summary>A required field (user_id, type, ts) is absent, null or empty.</summary>
    MissingField,
    /// <summary>ts is not an ISO-8601 UTC timestamp or epoch milliseconds within 1970..9999.</summary>
    BadTimestamp,
    /// <summary>ts is further ahead of the record's Kafka timestamp than the allowed clock skew.</summary>
    FutureTimestamp,
    /// <summary>Value exceeds the configured size limit.</summary>
    TooLarge,
    /// <summary>A known field has the wrong JSON type (e.g. a number for user_id, a string for value).</summary>
    WrongFieldType,
    /// <summary>The record key is present and differs from the value's user_id.</summary>
    KeyMismatch,
    /// <summary>JSON nested deeper than the configured limit.</summary>
    TooDeep,
    /// <summary>Event time is older than the partition watermark minus the grace period.</summary>
    LateEvent,
    /// <summary>Entity code threw while processing the event (poison record).</summary>
    ProcessingError,
    /// <summary>The user already has an accepted event with this event_id within the grace period (an at-least-once re-send).</summary>
    DuplicateEvent,
}

public static class RejectReasonCodes
{
    /// <summary>The stable snake_case code written to the <c>sp-reason</c> header.</summary>
    public static string Code(this RejectReason reason) => reason switch
    {
        RejectReason.NotJson => "not_json",
        RejectReason.MissingField => "missing_field",
        RejectReason.BadTimestamp => "bad_timestamp",
        RejectReason.FutureTimestamp => "future_timestamp",
        RejectReason.TooLarge => "too_large",
        RejectReason.WrongFieldType => "wrong_field_type",
        RejectReason.KeyMismatch => "key_mismatch",
        RejectReason.TooDeep => "too_deep",
        RejectReason.LateEvent => "late_event",
        RejectReason.ProcessingError => "processing_error",
        RejectReason.DuplicateEvent => "duplicate_event",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown reject reason"),
    };
}
