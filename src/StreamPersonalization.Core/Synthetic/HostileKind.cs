using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Kinds of hostile records in a <see cref="HostileCorpusGenerator"/> corpus: the generator's 14 classic bad records
/// plus harder ones (long garbage, deep nesting, huge strings, more wrong types, invalid UTF-8 shapes, NaN and
/// out-of-range timestamps, duplicated event ids) and a few odd-but-valid records the pipeline must accept.
/// </summary>
public enum HostileKind : byte
{
    // The classic kinds of BadRecordFactory (same payloads).
    RandomBytes, TruncatedJson, InvalidUtf8InString, TopLevelArray, TopLevelNumber, MissingUserId, MissingType, MissingTs,
    UnparseableTs, OutOfRangeTs, FutureTs, UserIdAsNumber, ValueAsString, TooLarge,

    /// <summary>0.5–4 KB of random bytes.</summary>
    LongRandomBytes,
    /// <summary>A raw control byte (0x00–0x1F) inside a JSON string.</summary>
    RawControlCharInString,
    /// <summary>An overlong or out-of-range UTF-8 sequence (C0 AF, E0 80 AF, F4 90 80 80, F8…) inside a string.</summary>
    OverlongUtf8,
    /// <summary>A valid event followed by more bytes.</summary>
    TrailingGarbage,
    /// <summary><c>"ts":NaN</c> (not JSON).</summary>
    NaNLiteralTs,
    /// <summary>properties nested 9–300 levels deep.</summary>
    DeeplyNestedProperties,
    /// <summary>An unknown field holding arrays nested 9–300 levels deep.</summary>
    DeeplyNestedUnknownField,
    /// <summary>user_id of 300–3,000 characters (key likewise).</summary>
    HugeUserId,
    /// <summary>A page string that takes the value over 64 KiB.</summary>
    HugeStringField,
    TypeAsNumber, TsAsBoolean, TsAsObject, PropertiesAsArray, ValueAsBoolean, EventIdAsNumber,
    /// <summary><c>"ts":"NaN"</c>.</summary>
    TsNaNString,
    /// <summary>Epoch milliseconds with a fraction.</summary>
    TsFractionalEpoch,
    /// <summary>A number far beyond Int64 (1e300).</summary>
    TsHugeNumber,
    TsNegativeEpoch,
    /// <summary>Epoch milliseconds after 9999-12-31.</summary>
    TsAfterYear9999,
    /// <summary>An ISO time without a zone.</summary>
    TsWithoutZone,
    /// <summary><c>{}</c>.</summary>
    EmptyObject,
    /// <summary>A valid event of one user under another user's key.</summary>
    KeyOfOtherUser,
    /// <summary>A well-formed event from 2001: valid at decode, then older than the partition watermark − grace.</summary>
    AncientTs,
    /// <summary>A byte-identical re-send of a recent valid record (an at-least-once producer's retry).</summary>
    ExactDuplicate,
    /// <summary>Another event of the same user reusing a recent valid event's id.</summary>
    DuplicateIdOtherPayload,
    /// <summary>A recent event id reused by a different user: not a duplicate (ids are de-duplicated per user), accepted.</summary>
    EventIdOfOtherUser,
    /// <summary>A page string of 8–30 KB that keeps the value under the limit: accepted.</summary>
    LargeButAccepted,
}

/// <summary>
/// One corpus record: the record as produced, its hostile kind (null for regular traffic) and the reason the pipeline
/// must dead-letter it with (null: it must be accepted). <see cref="SyntheticRecord.ExpectedReject"/> is the decoder's
/// verdict alone, so it is null for kinds only the shard can reject (late, duplicate).
/// </summary>
public sealed record HostileRecord(SyntheticRecord Record, HostileKind? Kind, RejectReason? Expected)
{
    public override string ToString() => $"HostileRecord({Kind?.ToString() ?? "traffic"}, {Expected?.Code() ?? "accepted"}, {Record})";
}

public static class HostileKinds
{
    /// <summary>The reason the decoder gives for a kind (null: the decoder accepts it).</summary>
    public static RejectReason? DecodeReason(this HostileKind kind) => kind switch
    {
        HostileKind.RandomBytes or HostileKind.TruncatedJson or HostileKind.InvalidUtf8InString or HostileKind.TopLevelArray
            or HostileKind.TopLevelNumber or HostileKind.LongRandomBytes or HostileKind.RawControlCharInString or HostileKind.OverlongUtf8
            or HostileKind.TrailingGarbage or HostileKind.NaNLiteralTs => RejectReason.NotJson,
        HostileKind.MissingUserId or HostileKind.MissingType or HostileKind.MissingTs or HostileKind.EmptyObject => RejectReason.MissingField,
        HostileKind.UnparseableTs or HostileKind.OutOfRangeTs or HostileKind.TsNaNString or HostileKind.TsFractionalEpoch or HostileKind.TsHugeNumber
            or HostileKind.TsNegativeEpoch or HostileKind.TsAfterYear9999 or HostileKind.TsWithoutZone => RejectReason.BadTimestamp,
        HostileKind.FutureTs => RejectReason.FutureTimestamp,
        HostileKind.UserIdAsNumber or HostileKind.ValueAsString or HostileKind.TypeAsNumber or HostileKind.TsAsBoolean or HostileKind.TsAsObject
            or HostileKind.PropertiesAsArray or HostileKind.ValueAsBoolean or HostileKind.EventIdAsNumber => RejectReason.WrongFieldType,
        HostileKind.TooLarge or HostileKind.HugeUserId or HostileKind.HugeStringField => RejectReason.TooLarge,
        HostileKind.DeeplyNestedProperties or HostileKind.DeeplyNestedUnknownField => RejectReason.TooDeep,
        HostileKind.KeyOfOtherUser => RejectReason.KeyMismatch,
        _ => null,
    };

    /// <summary>The reason the whole pipeline (decoder and shard) gives for a kind (null: accepted).</summary>
    public static RejectReason? PipelineReason(this HostileKind kind) => kind switch
    {
        HostileKind.AncientTs => RejectReason.LateEvent,
        HostileKind.ExactDuplicate or HostileKind.DuplicateIdOtherPayload => RejectReason.DuplicateEvent,
        _ => kind.DecodeReason(),
    };

    internal static BadRecordKind? Classic(this HostileKind kind) => kind <= HostileKind.TooLarge ? (BadRecordKind)(byte)kind : null;
}
