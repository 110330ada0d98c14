using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Privacy.Minimisation;

namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// Validates and decodes one clickstream record (UTF-8 JSON, schema in DESIGN.md) with a forward-only
/// <see cref="Utf8JsonReader"/>: no reflection, no DOM. Every failure maps to one <see cref="RejectReason"/>.
/// Precedence: size, then UTF-8/JSON syntax (the whole value is read even after a field error, so a
/// truncated record is <c>not_json</c>, never a field error), then field types, required fields,
/// timestamp, key. One instance per shard (it owns a <see cref="StringPool"/>).
/// <para>
/// Data minimisation hook: with a <paramref name="propertyFilter"/> (from <c>PropertyFilter.Create(Privacy:Properties)</c>,
/// null when disabled) a valid event's <c>properties</c> object is re-read after validation (its type may follow it
/// in the JSON) and the kept properties and drop counts are returned in <see cref="DecodeResult.Properties"/>.
/// Without one, properties are skipped unread as before and <see cref="DecodeResult.Properties"/> is null.
/// </para>
/// </summary>
/// <para>Pseudonymisation hook: with <paramref name="pseudonyms"/> the event's user id is replaced by its pseudonym
/// after the key check (which compares the raw key with the raw id), so no copy of the event is needed later.</para>
public sealed class EventDecoder(DecoderOptions options, StringPool? pool = null, PropertyFilter? propertyFilter = null,
    Privacy.Pseudonymization.PseudonymCache? pseudonyms = null)
{
    private readonly DecoderOptions _options = options.Validate();
    private readonly StringPool _pool = pool ?? new StringPool();
    private readonly PropertyFilter? _propertyFilter = propertyFilter;

    public DecoderOptions Options => _options;

    /// <summary>The minimisation applied to <c>properties</c>, or null when properties are only counted.</summary>
    public PropertyFilter? PropertyFilter => _propertyFilter;

    /// <param name="key">Kafka record key (UTF-8), empty when absent.</param>
    /// <param name="value">Kafka record value.</param>
    /// <param name="kafkaTimestampMs">The record's Kafka timestamp; event ts may not exceed it by more than the allowed skew.</param>
    /// <param name="fallbackEventId">Id used when the event carries none (e.g. "clickstream/3/1042").</param>
    public DecodeResult Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long kafkaTimestampMs, EventIdFallback fallbackEventId)
    {
        if (value.Length > _options.MaxValueBytes)
            return DecodeResult.Reject(RejectReason.TooLarge, $"value is {value.Length} bytes; limit {_options.MaxValueBytes}");
        if (value.IsEmpty) return DecodeResult.Reject(RejectReason.NotJson, "empty value");
        if (!Utf8.IsValid(value)) return DecodeResult.Reject(RejectReason.NotJson, "value is not valid UTF-8");

        var fields = new RawFields();
        try
        {
            var reader = new Utf8JsonReader(value, new JsonReaderOptions { MaxDepth = _options.MaxDepth + 2 });
            if (!reader.Read()) return DecodeResult.Reject(RejectReason.NotJson, "no JSON value");
            if (reader.TokenType != JsonTokenType.StartObject)
                return DecodeResult.Reject(RejectReason.NotJson, $"top-level JSON value is {reader.TokenType}; expected an object");
            ReadObject(ref reader, ref fields);
            if (reader.Read()) return DecodeResult.Reject(RejectReason.NotJson, $"trailing data after the object at byte {reader.TokenStartIndex}");
        }
        catch (TooDeepException)
        {
            return DecodeResult.Reject(RejectReason.TooDeep, $"JSON nested deeper than {_options.MaxDepth} levels");
        }
        catch (JsonException ex)
        {
            return DecodeResult.Reject(RejectReason.NotJson, $"invalid JSON at byte {ex.BytePositionInLine}: {FirstLine(ex.Message)}");
        }
        if (fields.Error is { } error) return DecodeResult.Reject(error.Reason, error.Detail);
        return Build(ref fields, key, value, kafkaTimestampMs, fallbackEventId);
    }

    private DecodeResult Build(ref RawFields f, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long kafkaTimestampMs, EventIdFallback fallbackEventId)
    {
        if (string.IsNullOrEmpty(f.UserId)) return DecodeResult.Reject(RejectReason.MissingField, "user_id is missing or empty");
        if (string.IsNullOrEmpty(f.TypeName)) return DecodeResult.Reject(RejectReason.MissingField, "type is missing or empty");
        if (!f.HasTs) return DecodeResult.Reject(RejectReason.MissingField, "ts is missing");
        if (f.UserId.Length > _options.MaxUserIdLength)
            return DecodeResult.Reject(RejectReason.TooLarge, $"user_id has {f.UserId.Length} characters; limit {_options.MaxUserIdLength}");
        if (f.TsMs is < TimestampParser.MinMs or > TimestampParser.MaxMs)
            return DecodeResult.Reject(RejectReason.BadTimestamp, "ts is outside 1970-01-01..9999-12-31");
        if (f.TsMs > kafkaTimestampMs + (long)_options.MaxFutureSkew.TotalMilliseconds)
            return DecodeResult.Reject(RejectReason.FutureTimestamp,
                $"ts {TimestampParser.Format(f.TsMs)} is {f.TsMs - kafkaTimestampMs} ms after the record's Kafka timestamp; allowed skew {(long)_options.MaxFutureSkew.TotalMilliseconds} ms");
        if (!key.IsEmpty && !KeyEquals(key, f.UserId))
            return DecodeResult.Reject(RejectReason.KeyMismatch, "record key differs from user_id");
        var type = EventTypes.Parse(f.TypeName);
        bool? consent = null;
        if (type == EventType.Consent)
        {
            consent = ConsentProperty.Read(value.Slice(f.PropertiesStart, f.PropertiesLength));
            if (consent is null) return DecodeResult.Reject(RejectReason.MissingField, ConsentProperty.Required);
        }
        var e = new ClickEvent(
            f.EventId ?? fallbackEventId.ToString(), pseudonyms is null ? f.UserId : pseudonyms.Get(f.UserId), type, f.TypeName, f.TsMs,
            f.Page, f.Device, f.Country, f.Value, f.ExperimentId, f.Variant, f.PropertyCount, consent);
        if (_propertyFilter is null) return DecodeResult.Ok(e);
        // An empty object has nothing to minimise: skip the second read (most events carry none).
        var properties = f.PropertiesLength == 0 || f.PropertyCount == 0
            ? PropertyFilterResult.Empty
            : ReferenceEquals(f.DecidedFor, f.TypeName)   // decided in the first pass under the final type
            ? PropertyFilter.Dropped(f.FirstPassDrops, f.FirstPassNames - f.FirstPassDrops.Total)
            : _propertyFilter.FilterJson(f.TypeName, value.Slice(f.PropertiesStart, f.PropertiesLength), _pool);
        return DecodeResult.Ok(e, properties);
    }

    private static bool KeyEquals(ReadOnlySpan<byte> key, string userId)
    {
        Span<byte> buf = stackalloc byte[Math.Min(Encoding.UTF8.GetMaxByteCount(userId.Length), 1024)];
        if (userId.Length * 3 > buf.Length) return key.SequenceEqual(Encoding.UTF8.GetBytes(userId));
        var n = Encoding.UTF8.GetBytes(userId, buf);
        return key.SequenceEqual(buf[..n]);
    }

    private void ReadObject(ref Utf8JsonReader reader, ref RawFields f)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = FieldOf(ref reader);
            reader.Read();
            switch (name)
            {
                case Field.UserId: f.UserId = ReadString(ref reader, ref f, "user_id", pooled: false); break;
                case Field.Type: f.TypeName = ReadString(ref reader, ref f, "type", pooled: true); break;
                case Field.EventId: f.EventId = ReadString(ref reader, ref f, "event_id", pooled: false); break;
                case Field.Page: f.Page = ReadString(ref reader, ref f, "page", pooled: true); break;
                case Field.Device: f.Device = ReadString(ref reader, ref f, "device", pooled: true); break;
                case Field.Country: f.Country = ReadString(ref reader, ref f, "country", pooled: true); break;
                case Field.ExperimentId: f.ExperimentId = ReadString(ref reader, ref f, "experiment_id", pooled: true); break;
                case Field.Variant: f.Variant = ReadString(ref reader, ref f, "variant", pooled: true); break;
                case Field.Ts: ReadTimestamp(ref reader, ref f); break;
                case Field.Value: ReadValue(ref reader, ref f); break;
                case Field.Properties: ReadProperties(ref reader, ref f); break;
                default: SkipValue(ref reader); break;
            }
        }
    }

    private string? ReadString(ref Utf8JsonReader reader, ref RawFields f, string field, bool pooled)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.String)
        {
            f.Fail(RejectReason.WrongFieldType, $"{field} is {reader.TokenType}; expected a string");
            SkipValue(ref reader);
            return null;
        }
        if (pooled && !reader.ValueIsEscaped) return _pool.Get(reader.ValueSpan);
        return reader.GetString();
    }

    private void ReadTimestamp(ref Utf8JsonReader reader, ref RawFields f)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return;
            case JsonTokenType.String when reader.ValueSpan.IsEmpty:
                return;   // "" counts as missing, like an absent or null ts
            case JsonTokenType.String:
                f.HasTs = true;
                var raw = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                if (!TimestampParser.TryParseIso(raw, out f.TsMs))
                    f.Fail(RejectReason.BadTimestamp, $"ts '{Truncate(Encoding.UTF8.GetString(raw))}' is not an ISO-8601 UTC timestamp");
                return;
            case JsonTokenType.Number:
                f.HasTs = true;
                if (!reader.TryGetInt64(out f.TsMs)) f.Fail(RejectReason.BadTimestamp, "numeric ts is not whole epoch milliseconds");
                return;
            default:
                f.Fail(RejectReason.WrongFieldType, $"ts is {reader.TokenType}; expected a string or epoch milliseconds");
                SkipValue(ref reader);
                return;
        }
    }

    private void ReadValue(ref Utf8JsonReader reader, ref RawFields f)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.Number)
        {
            f.Fail(RejectReason.WrongFieldType, $"value is {reader.TokenType}; expected a number");
            SkipValue(ref reader);
            return;
        }
        if (!reader.TryGetDouble(out var v) || !double.IsFinite(v)) f.Fail(RejectReason.WrongFieldType, "value is not a finite number");
        else f.Value = v;
    }

    private void ReadProperties(ref Utf8JsonReader reader, ref RawFields f)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            f.Fail(RejectReason.WrongFieldType, $"properties is {reader.TokenType}; expected an object");
            SkipValue(ref reader);
            return;
        }
        var depth = reader.CurrentDepth;
        var start = reader.TokenStartIndex;
        CheckDepth(ref reader);
        // When the type is already known, the minimisation is decided during this walk (names against the type's
        // allowlist, allowlisted values for structure and PII): no second pass and no string for any value. Kept values
        // are not materialised because nothing downstream stores properties; only the drop counts are reported.
        var allowed = _propertyFilter is not null && f.TypeName is not null ? _propertyFilter.AllowedFor(f.TypeName) : null;
        var drops = new PropertyDropCounts();
        var names = 0;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
            {
                f.PropertyCount++;
                names++;
                if (allowed is not null)
                {
                    var isAllowed = PropertyWalk.NameAllowed(ref reader, allowed);
                    reader.Read();
                    CheckDepth(ref reader);
                    if (PropertyWalk.DropReason(ref reader, isAllowed, _propertyFilter!.Options.DetectPii) is { } reason) drops = drops.Add(reason);
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) continue;   // nested tokens: walked below
                }
            }
            CheckDepth(ref reader);
        }
        f.DecidedFor = allowed is not null ? f.TypeName : null;
        f.FirstPassDrops = drops;
        f.FirstPassNames = names;
        // Remember where the object lies for the minimisation pass and consent events (a repeated "properties" key: the last one wins).
        f.PropertiesStart = (int)start;
        f.PropertiesLength = (int)(reader.BytesConsumed - start);
    }

    // Reads past the current value token by token (Skip() needs the whole value buffered, which it is,
    // but walking keeps the depth limit enforced by the reader itself).
    private void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        var depth = reader.CurrentDepth;
        CheckDepth(ref reader);
        while (reader.Read() && reader.CurrentDepth > depth) CheckDepth(ref reader);
    }

    // The event object is level 1; a container starting at reader depth d opens level d + 1.
    private void CheckDepth(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth + 1 > _options.MaxDepth)
            throw new TooDeepException();
    }

    private sealed class TooDeepException : Exception;

    private static Field FieldOf(ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> n = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
        return n.Length switch
        {
            2 when n.SequenceEqual("ts"u8) => Field.Ts,
            4 when n.SequenceEqual("type"u8) => Field.Type,
            4 when n.SequenceEqual("page"u8) => Field.Page,
            5 when n.SequenceEqual("value"u8) => Field.Value,
            6 when n.SequenceEqual("device"u8) => Field.Device,
            7 when n.SequenceEqual("user_id"u8) => Field.UserId,
            7 when n.SequenceEqual("country"u8) => Field.Country,
            7 when n.SequenceEqual("variant"u8) => Field.Variant,
            8 when n.SequenceEqual("event_id"u8) => Field.EventId,
            10 when n.SequenceEqual("properties"u8) => Field.Properties,
            13 when n.SequenceEqual("experiment_id"u8) => Field.ExperimentId,
            _ => Field.Unknown,
        };
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string FirstLine(string s) { var i = s.IndexOf('\n'); return i < 0 ? s : s[..i]; }

    /// <summary>Top-level field names, matched on the raw UTF-8 bytes.</summary>
    private enum Field { Unknown, EventId, UserId, Type, Ts, Page, Device, Country, Properties, ExperimentId, Variant, Value }

    private struct RawFields
    {
        public string? EventId, UserId, TypeName, Page, Device, Country, ExperimentId, Variant;
        public bool HasTs;
        public long TsMs;
        public double? Value;
        public int PropertyCount, PropertiesStart, PropertiesLength;
        /// <summary>The type under which the first pass decided the minimisation (null: not decided there).</summary>
        public string? DecidedFor;
        public PropertyDropCounts FirstPassDrops;
        public int FirstPassNames;
        public (RejectReason Reason, string Detail)? Error;

        public void Fail(RejectReason reason, string detail) => Error ??= (reason, detail);
    }
}
