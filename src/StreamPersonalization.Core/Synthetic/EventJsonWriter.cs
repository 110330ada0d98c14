using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// The single deliberate defect a bad record carries in an otherwise well-formed event, so each bad
/// record maps to exactly one expected reject reason whatever order a validator checks in.
/// </summary>
internal enum FieldDefect : byte
{
    None,
    OmitUserId, NullUserId, EmptyUserId,
    OmitType, NullType, EmptyType,
    OmitTs, NullTs, EmptyTs,
    UserIdAsNumber,
    ValueAsString,
    TsLiteral,
}

/// <summary>
/// Serialises <see cref="SimulatedEvent"/>s with one reused <see cref="Utf8JsonWriter"/> and buffer:
/// pre-encoded property names and a hand-rolled timestamp formatter keep it well above the
/// throughput the Kafka benchmarks need.
/// </summary>
internal sealed class EventJsonWriter
{
    private static readonly JsonEncodedText EventIdName = JsonEncodedText.Encode("event_id");
    private static readonly JsonEncodedText UserIdName = JsonEncodedText.Encode("user_id");
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText TsName = JsonEncodedText.Encode("ts");
    private static readonly JsonEncodedText PageName = JsonEncodedText.Encode("page");
    private static readonly JsonEncodedText DeviceName = JsonEncodedText.Encode("device");
    private static readonly JsonEncodedText CountryName = JsonEncodedText.Encode("country");
    private static readonly JsonEncodedText PropertiesName = JsonEncodedText.Encode("properties");
    private static readonly JsonEncodedText ExperimentIdName = JsonEncodedText.Encode("experiment_id");
    private static readonly JsonEncodedText VariantName = JsonEncodedText.Encode("variant");
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value");

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly string _idPrefix;

    /// <param name="idPrefix">Prefix of event ids; distinct per stream so ids never collide.</param>
    public EventJsonWriter(string idPrefix)
    {
        _idPrefix = idPrefix;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    public byte[] Write(in SimulatedEvent e, FieldDefect defect = FieldDefect.None, string? tsLiteral = null)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _json.WriteStartObject();

        Span<byte> scratch = stackalloc byte[64];
        Utf8.TryWrite(scratch, $"{_idPrefix}-{e.Sequence:D10}", out int idLength);
        _json.WriteString(EventIdName, scratch[..idLength]);

        switch (defect)
        {
            case FieldDefect.OmitUserId: break;
            case FieldDefect.NullUserId: _json.WriteNull(UserIdName); break;
            case FieldDefect.EmptyUserId: _json.WriteString(UserIdName, ""); break;
            case FieldDefect.UserIdAsNumber: _json.WriteNumber(UserIdName, e.User.Index); break;
            default: _json.WriteString(UserIdName, e.User.IdJson); break;
        }

        switch (defect)
        {
            case FieldDefect.OmitType: break;
            case FieldDefect.NullType: _json.WriteNull(TypeName); break;
            case FieldDefect.EmptyType: _json.WriteString(TypeName, ""); break;
            default: _json.WriteString(TypeName, e.Type); break;
        }

        switch (defect)
        {
            case FieldDefect.OmitTs: break;
            case FieldDefect.NullTs: _json.WriteNull(TsName); break;
            case FieldDefect.EmptyTs: _json.WriteString(TsName, ""); break;
            case FieldDefect.TsLiteral: _json.WriteString(TsName, tsLiteral); break;
            default:
                int n = IsoTimestamp.Format(e.TsMs, scratch);
                _json.WriteString(TsName, scratch[..n]);
                break;
        }

        _json.WriteString(PageName, e.Page);
        _json.WriteString(DeviceName, e.Device);
        _json.WriteString(CountryName, e.User.Country);

        _json.WriteStartObject(PropertiesName);
        if (e.PropertyName is not null)
        {
            if (e.PropertyText is { } text) _json.WriteString(e.PropertyName.Value, text);
            else _json.WriteNumber(e.PropertyName.Value, e.PropertyNumber);
        }
        _json.WriteEndObject();

        WriteNullable(ExperimentIdName, e.ExperimentId);
        WriteNullable(VariantName, e.Variant);
        if (defect == FieldDefect.ValueAsString)
            _json.WriteString(ValueName, (e.Value ?? 1m).ToString(System.Globalization.CultureInfo.InvariantCulture));
        else if (e.Value is { } value) _json.WriteNumber(ValueName, value);
        else _json.WriteNull(ValueName);

        _json.WriteEndObject();
        _json.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    private void WriteNullable(JsonEncodedText name, JsonEncodedText? value)
    {
        if (value is null) _json.WriteNull(name);
        else _json.WriteString(name, value.Value);
    }
}

/// <summary>ISO-8601 UTC with milliseconds ("2026-11-22T10:00:00.123Z"), formatted without culture lookups.</summary>
internal static class IsoTimestamp
{
    public const int Length = 24;

    /// <summary>Writes the timestamp as ASCII into <paramref name="destination"/> (at least 24 bytes); returns 24.</summary>
    public static int Format(long epochMs, Span<byte> destination)
    {
        var dt = new DateTime(DateTime.UnixEpoch.Ticks + epochMs * TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
        var (date, _) = dt;
        int year = date.Year, month = date.Month, day = date.Day;
        long msOfDay = (dt.Ticks / TimeSpan.TicksPerMillisecond) % 86_400_000;
        var d = destination[..Length];
        Digits(d[..4], year);
        d[4] = (byte)'-';
        Digits(d.Slice(5, 2), month);
        d[7] = (byte)'-';
        Digits(d.Slice(8, 2), day);
        d[10] = (byte)'T';
        Digits(d.Slice(11, 2), (int)(msOfDay / 3_600_000));
        d[13] = (byte)':';
        Digits(d.Slice(14, 2), (int)(msOfDay / 60_000 % 60));
        d[16] = (byte)':';
        Digits(d.Slice(17, 2), (int)(msOfDay / 1000 % 60));
        d[19] = (byte)'.';
        Digits(d.Slice(20, 3), (int)(msOfDay % 1000));
        d[23] = (byte)'Z';
        return Length;
    }

    public static string Format(long epochMs)
    {
        Span<byte> buffer = stackalloc byte[Length];
        Format(epochMs, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    private static void Digits(Span<byte> destination, int value)
    {
        for (int i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }
}
