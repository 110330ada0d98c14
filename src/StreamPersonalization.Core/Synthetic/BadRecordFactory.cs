using System.Text.Json;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>The kinds of malformed records the generator injects; each maps to one expected reject reason.</summary>
internal enum BadRecordKind : byte
{
    RandomBytes,
    TruncatedJson,
    InvalidUtf8InString,
    TopLevelArray,
    TopLevelNumber,
    MissingUserId,
    MissingType,
    MissingTs,
    UnparseableTs,
    OutOfRangeTs,
    FutureTs,
    UserIdAsNumber,
    ValueAsString,
    TooLarge,
}

/// <summary>A generated record with the labels tests need (which bad kind, whether emitted out of order).</summary>
internal readonly record struct LabeledRecord(SyntheticRecord Record, BadRecordKind? BadKind, bool OutOfOrder);

/// <summary>
/// Builds malformed records from plausible events of random users. It has its own random stream and
/// id sequence, so injecting bad records never changes the valid users' streams.
/// </summary>
internal sealed class BadRecordFactory
{
    /// <summary>Value size of <see cref="BadRecordKind.TooLarge"/> records: above the default 64 KiB limit.</summary>
    public const int TooLargeBytes = 70_000;
    /// <summary>How far a <see cref="BadRecordKind.FutureTs"/> ts is ahead of its Kafka timestamp (vs. 5 min default skew).</summary>
    public const long FutureAheadMs = 86_400_000;

    private static readonly WeightedTable<BadRecordKind> Kinds = new(
    [
        (BadRecordKind.RandomBytes, 8), (BadRecordKind.TruncatedJson, 8), (BadRecordKind.InvalidUtf8InString, 8),
        (BadRecordKind.TopLevelArray, 5), (BadRecordKind.TopLevelNumber, 5),
        (BadRecordKind.MissingUserId, 8), (BadRecordKind.MissingType, 8), (BadRecordKind.MissingTs, 8),
        (BadRecordKind.UnparseableTs, 7), (BadRecordKind.OutOfRangeTs, 7), (BadRecordKind.FutureTs, 10),
        (BadRecordKind.UserIdAsNumber, 8), (BadRecordKind.ValueAsString, 8),
        (BadRecordKind.TooLarge, 2),
    ]);

    private static readonly byte[][] InvalidUtf8Sequences =
    [
        [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80],
    ];

    private static readonly JsonEncodedText Placeholder = JsonEncodedText.Encode("@@INVALID@@");
    private static readonly JsonEncodedText Referrer = JsonEncodedText.Encode("referrer");
    private static readonly JsonEncodedText Direct = JsonEncodedText.Encode("direct");
    private static readonly JsonEncodedText Checkout = JsonEncodedText.Encode("/checkout");
    private static readonly JsonEncodedText Items = JsonEncodedText.Encode("items");
    private static readonly JsonEncodedText Note = JsonEncodedText.Encode("note");
    private static readonly byte[] PlaceholderBytes = "@@INVALID@@"u8.ToArray();

    private readonly ClickstreamGeneratorOptions _options;
    private readonly DeterministicRandom _rng;
    private readonly SimulatedUser[] _users;
    private readonly EventJsonWriter _writer;
    private readonly Lazy<JsonEncodedText> _hugeText = new(() => JsonEncodedText.Encode(new string('x', TooLargeBytes)));
    private long _sequence;

    public BadRecordFactory(ClickstreamGeneratorOptions options, DeterministicRandom rng, SimulatedUser[] users)
    {
        _options = options;
        _rng = rng;
        _users = users;
        _writer = new EventJsonWriter("x" + options.Seed.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Creates one bad record of a random kind stamped at the simulation clock <paramref name="nowMs"/>.</summary>
    public LabeledRecord Create(long nowMs) => Create(nowMs, Kinds.Pick(_rng));

    /// <summary>Creates one bad record of the given kind stamped at the simulation clock <paramref name="nowMs"/>.</summary>
    public LabeledRecord Create(long nowMs, BadRecordKind kind)
    {
        var user = _users[_rng.NextInt(_users.Length)].Profile;
        long kafkaMs = nowMs + _rng.NextLong(0, _options.MaxIngestDelayMs);
        var ev = new SimulatedEvent
        {
            Sequence = ++_sequence,
            User = user,
            Type = SimulatedEventTypes.PageView,
            TsMs = nowMs,
            Page = UserPopulation.Home,
            Device = user.PrimaryDevice,
            PropertyName = Referrer,
            PropertyText = Direct,
        };
        string? key = user.Id;
        byte[] value;
        RejectReason reason;
        switch (kind)
        {
            case BadRecordKind.RandomBytes:
                value = RandomBytes();
                if (_rng.Chance(0.5)) key = null;
                reason = RejectReason.NotJson;
                break;
            case BadRecordKind.TruncatedJson:
                byte[] full = _writer.Write(ev);
                value = full[..(int)_rng.NextLong(1, full.Length - 2)];
                if (_rng.Chance(0.25)) key = null;
                reason = RejectReason.NotJson;
                break;
            case BadRecordKind.InvalidUtf8InString:
                ev.Page = Placeholder;
                value = Splice(_writer.Write(ev), InvalidUtf8Sequences[_rng.NextInt(InvalidUtf8Sequences.Length)]);
                reason = RejectReason.NotJson;
                break;
            case BadRecordKind.TopLevelArray:
                value = [(byte)'[', .. _writer.Write(ev), (byte)']'];
                reason = RejectReason.NotJson;
                break;
            case BadRecordKind.TopLevelNumber:
                value = System.Text.Encoding.ASCII.GetBytes(_rng.NextLong(0, 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
                reason = RejectReason.NotJson;
                break;
            case BadRecordKind.MissingUserId:
                value = _writer.Write(ev, OneOfThree(FieldDefect.OmitUserId));
                reason = RejectReason.MissingField;
                break;
            case BadRecordKind.MissingType:
                value = _writer.Write(ev, OneOfThree(FieldDefect.OmitType));
                reason = RejectReason.MissingField;
                break;
            case BadRecordKind.MissingTs:
                value = _writer.Write(ev, OneOfThree(FieldDefect.OmitTs));
                reason = RejectReason.MissingField;
                break;
            case BadRecordKind.UnparseableTs:
                value = _writer.Write(ev, FieldDefect.TsLiteral, "not-a-date");
                reason = RejectReason.BadTimestamp;
                break;
            case BadRecordKind.OutOfRangeTs:
                value = _writer.Write(ev, FieldDefect.TsLiteral, "2026-13-45T99:00:00Z");
                reason = RejectReason.BadTimestamp;
                break;
            case BadRecordKind.FutureTs:
                ev.TsMs = kafkaMs + FutureAheadMs;
                value = _writer.Write(ev);
                reason = RejectReason.FutureTimestamp;
                break;
            case BadRecordKind.UserIdAsNumber:
                value = _writer.Write(ev, FieldDefect.UserIdAsNumber);
                reason = RejectReason.WrongFieldType;
                break;
            case BadRecordKind.ValueAsString:
                ev.Type = SimulatedEventTypes.Purchase;
                ev.Page = Checkout;
                ev.PropertyName = Items;
                ev.PropertyText = null;
                ev.PropertyNumber = 1;
                ev.Value = 19.99m;
                value = _writer.Write(ev, FieldDefect.ValueAsString);
                reason = RejectReason.WrongFieldType;
                break;
            default:
                ev.PropertyName = Note;
                ev.PropertyText = _hugeText.Value;
                value = _writer.Write(ev);
                reason = RejectReason.TooLarge;
                break;
        }
        return new LabeledRecord(new SyntheticRecord(key, value, kafkaMs, reason), kind, OutOfOrder: false);
    }

    /// <summary>1–64 random bytes whose first byte can never start a JSON object, so they are never a valid event.</summary>
    private byte[] RandomBytes()
    {
        var bytes = new byte[_rng.NextLong(1, 64)];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)_rng.NextInt(256);
        if (bytes[0] is (byte)'{' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF)
            bytes[0] = 0xFE; // 0xEF could begin a BOM; 0xFE is never valid UTF-8
        return bytes;
    }

    /// <summary>Omitted, null or empty: the three shapes of "missing" a validator must all catch.</summary>
    private FieldDefect OneOfThree(FieldDefect omitted) => (FieldDefect)((int)omitted + _rng.NextInt(3));

    private static byte[] Splice(byte[] json, byte[] replacement)
    {
        int at = json.AsSpan().IndexOf(PlaceholderBytes);
        return [.. json.AsSpan(0, at), .. replacement, .. json.AsSpan(at + PlaceholderBytes.Length)];
    }
}
