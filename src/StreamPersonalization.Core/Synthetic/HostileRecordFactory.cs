using System.Globalization;
using System.Text;
using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>The last valid records of the traffic, for re-sends and reused event ids.</summary>
internal sealed class RecentTraffic(int capacity)
{
    private readonly (ClickEvent Event, SyntheticRecord Record)[] _ring = new (ClickEvent, SyntheticRecord)[capacity];
    private int _count, _next;

    public void Add(ClickEvent e, SyntheticRecord r)
    {
        _ring[_next] = (e, r);
        _next = (_next + 1) % _ring.Length;
        _count = Math.Min(_count + 1, _ring.Length);
    }

    /// <summary>A random held record whose event time is at least <paramref name="minTsMs"/>, or null.</summary>
    public (ClickEvent Event, SyntheticRecord Record)? Pick(DeterministicRandom rng, long minTsMs)
    {
        var candidates = new List<int>(_count);
        for (var i = 0; i < _count; i++) if (_ring[i].Event.TimestampMs >= minTsMs) candidates.Add(i);
        return candidates.Count == 0 ? null : _ring[candidates[rng.NextInt(candidates.Count)]];
    }
}

/// <summary>
/// Builds the records of a hostile corpus (see <see cref="HostileKind"/>). Classic kinds come from
/// <see cref="BadRecordFactory"/>; the others are written here. Events that must be accepted get an event time at most
/// 10 s before the simulation clock, so they are neither late nor ahead of their Kafka timestamp; re-sends pick an
/// original at most 2 minutes old, so under a grace period of ≥ 2 minutes they are duplicates, never late events.
/// </summary>
internal sealed class HostileRecordFactory
{
    private const long DuplicateHorizonMs = 120_000, AcceptedLagMs = 10_000;
    private static readonly long Year2001Ms = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static readonly WeightedTable<HostileKind> Kinds = new(
    [
        // Classic kinds: about a third of the corpus (few huge ones: the embedded broker keeps 5 MB per partition).
        (HostileKind.RandomBytes, 3), (HostileKind.TruncatedJson, 3), (HostileKind.InvalidUtf8InString, 3), (HostileKind.TopLevelArray, 2),
        (HostileKind.TopLevelNumber, 2), (HostileKind.MissingUserId, 3), (HostileKind.MissingType, 3), (HostileKind.MissingTs, 3),
        (HostileKind.UnparseableTs, 2), (HostileKind.OutOfRangeTs, 2), (HostileKind.FutureTs, 3), (HostileKind.UserIdAsNumber, 2),
        (HostileKind.ValueAsString, 2), (HostileKind.TooLarge, 0.3),
        (HostileKind.LongRandomBytes, 2), (HostileKind.RawControlCharInString, 2), (HostileKind.OverlongUtf8, 2), (HostileKind.TrailingGarbage, 2),
        (HostileKind.NaNLiteralTs, 2), (HostileKind.DeeplyNestedProperties, 3), (HostileKind.DeeplyNestedUnknownField, 3),
        (HostileKind.HugeUserId, 2), (HostileKind.HugeStringField, 0.3),
        (HostileKind.TypeAsNumber, 2), (HostileKind.TsAsBoolean, 2), (HostileKind.TsAsObject, 2), (HostileKind.PropertiesAsArray, 2),
        (HostileKind.ValueAsBoolean, 2), (HostileKind.EventIdAsNumber, 2),
        (HostileKind.TsNaNString, 2), (HostileKind.TsFractionalEpoch, 2), (HostileKind.TsHugeNumber, 2), (HostileKind.TsNegativeEpoch, 2),
        (HostileKind.TsAfterYear9999, 2), (HostileKind.TsWithoutZone, 2), (HostileKind.EmptyObject, 2), (HostileKind.KeyOfOtherUser, 3),
        (HostileKind.AncientTs, 3), (HostileKind.ExactDuplicate, 8), (HostileKind.DuplicateIdOtherPayload, 4),
        (HostileKind.EventIdOfOtherUser, 2), (HostileKind.LargeButAccepted, 0.5),
    ]);

    private static readonly byte[][] OverlongSequences =
    [
        [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    private static readonly string[] TrailingJunk = ["xyz", "{}", "]", ",{\"a\":1}", "\u0000", "garbage"];
    private const string Placeholder = "@@HOSTILE@@";

    private readonly ClickstreamGeneratorOptions _traffic;
    private readonly DeterministicRandom _rng;
    private readonly SimulatedUser[] _users;
    private readonly BadRecordFactory _classic;
    private readonly string _idPrefix;
    private readonly HashSet<(string User, string EventId)> _reusedIds = [];
    private long _sequence;

    public HostileRecordFactory(ClickstreamGeneratorOptions traffic, DeterministicRandom rng, DeterministicRandom classicRng, SimulatedUser[] users)
    {
        _traffic = traffic;
        _rng = rng;
        _users = users;
        _classic = new BadRecordFactory(traffic, classicRng, users);
        _idPrefix = "h" + traffic.Seed.ToString("x", CultureInfo.InvariantCulture);
    }

    public HostileRecord Create(long nowMs, RecentTraffic recent)
    {
        var kind = Kinds.Pick(_rng);
        var record = Build(kind, nowMs, recent);
        if (record is null)
        {
            kind = HostileKind.RandomBytes;   // no suitable original for a re-send: fall back, labelled as what it is
            record = _classic.Create(nowMs, BadRecordKind.RandomBytes).Record;
        }
        return new HostileRecord(record, kind, kind.PipelineReason());
    }

    private SyntheticRecord? Build(HostileKind kind, long nowMs, RecentTraffic recent)
    {
        if (kind.Classic() is { } classic) return _classic.Create(nowMs, classic).Record;
        var user = User();
        var kafkaMs = nowMs + _rng.NextLong(0, _traffic.MaxIngestDelayMs);
        var id = Quote($"{_idPrefix}-{++_sequence:D10}");
        var ts = nowMs - _rng.NextLong(0, AcceptedLagMs);
        var iso = Quote(Iso(ts));
        var reason = kind.DecodeReason();
        SyntheticRecord Text(string json, string? key = null) => new(key ?? user.Id, Encoding.UTF8.GetBytes(json), kafkaMs, reason);
        SyntheticRecord Spliced(string json, byte[] bytes) => new(user.Id, Splice(Encoding.UTF8.GetBytes(json), bytes), kafkaMs, reason);
        switch (kind)
        {
            case HostileKind.LongRandomBytes:
                return new SyntheticRecord(user.Id, RandomBytes(_rng.NextInt(3_585) + 512), kafkaMs, reason);
            case HostileKind.RawControlCharInString:
                return Spliced(Event(user, id, iso, page: Quote("/p/" + Placeholder)), [(byte)_rng.NextInt(32)]);
            case HostileKind.OverlongUtf8:
                return Spliced(Event(user, id, iso, page: Quote("/p/" + Placeholder)), OverlongSequences[_rng.NextInt(OverlongSequences.Length)]);
            case HostileKind.TrailingGarbage:
                return Text(Event(user, id, iso) + TrailingJunk[_rng.NextInt(TrailingJunk.Length)]);
            case HostileKind.NaNLiteralTs:
                return Text(Event(user, id, "NaN"));
            case HostileKind.DeeplyNestedProperties:
                {
                    var levels = (int)_rng.NextLong(8, 299);   // the event object is level 1: 9..300 levels in all
                    return Text(Event(user, id, iso, properties: string.Concat(Enumerable.Repeat("{\"a\":", levels - 1)) + "{}" + new string('}', levels - 1)));
                }
            case HostileKind.DeeplyNestedUnknownField:
                {
                    var levels = (int)_rng.NextLong(8, 299);
                    return Text(Event(user, id, iso, extra: ",\"nest\":" + new string('[', levels) + "1" + new string(']', levels)));
                }
            case HostileKind.HugeUserId:
                {
                    var huge = "u" + new string('z', (int)_rng.NextLong(300, 3_000));
                    return Text(Event(user, id, iso, userJson: Quote(huge)), key: huge);
                }
            case HostileKind.HugeStringField:
                return Text(Event(user, id, iso, page: Quote("/" + new string('p', (int)_rng.NextLong(65_600, 80_000)))));
            case HostileKind.TypeAsNumber: return Text(Event(user, id, iso, type: _rng.NextInt(100).ToString(CultureInfo.InvariantCulture)));
            case HostileKind.TsAsBoolean: return Text(Event(user, id, _rng.Chance(0.5) ? "true" : "false"));
            case HostileKind.TsAsObject: return Text(Event(user, id, $"{{\"ms\":{ts}}}"));
            case HostileKind.PropertiesAsArray: return Text(Event(user, id, iso, properties: "[\"a\",1,null]"));
            case HostileKind.ValueAsBoolean: return Text(Event(user, id, iso, type: Quote("purchase"), value: "true"));
            case HostileKind.EventIdAsNumber: return Text(Event(user, _sequence.ToString(CultureInfo.InvariantCulture), iso));
            case HostileKind.TsNaNString: return Text(Event(user, id, Quote(_rng.Chance(0.5) ? "NaN" : "Infinity")));
            case HostileKind.TsFractionalEpoch: return Text(Event(user, id, $"{ts}.{_rng.NextInt(9) + 1}"));
            case HostileKind.TsHugeNumber: return Text(Event(user, id, _rng.Chance(0.5) ? "1e300" : "123456789012345678901234567890"));
            case HostileKind.TsNegativeEpoch: return Text(Event(user, id, (-_rng.NextLong(1, 1_000_000_000_000)).ToString(CultureInfo.InvariantCulture)));
            case HostileKind.TsAfterYear9999: return Text(Event(user, id, (253_402_300_800_000 + _rng.NextLong(0, 1_000_000_000_000)).ToString(CultureInfo.InvariantCulture)));
            case HostileKind.TsWithoutZone: return Text(Event(user, id, Quote(Iso(ts).TrimEnd('Z'))));
            case HostileKind.EmptyObject: return Text(_rng.NextInt(3) switch { 0 => "{}", 1 => "{ }", _ => "{\"properties\":{}}" });
            case HostileKind.KeyOfOtherUser: return Text(Event(user, id, iso), key: OtherUser(user).Id);
            case HostileKind.AncientTs:
                return Text(Event(user, id, Quote(Iso(Year2001Ms + _rng.NextLong(0, 365L * 86_400_000)))));
            case HostileKind.LargeButAccepted:
                return Text(Event(user, id, iso, page: Quote("/" + new string('q', (int)_rng.NextLong(8_000, 30_000)))));
            case HostileKind.ExactDuplicate:
                {
                    if (recent.Pick(_rng, nowMs - DuplicateHorizonMs) is not { } original) return null;
                    return original.Record with { TimestampMs = kafkaMs };
                }
            case HostileKind.DuplicateIdOtherPayload:
                {
                    if (recent.Pick(_rng, nowMs - DuplicateHorizonMs) is not { } original) return null;
                    var e = original.Event;
                    var again = Event(Profile(e.UserId), Quote(e.EventId), Quote(Iso(e.TimestampMs + _rng.NextLong(0, AcceptedLagMs))), type: Quote("click"));
                    return new SyntheticRecord(e.UserId, Encoding.UTF8.GetBytes(again), kafkaMs, null);
                }
            case HostileKind.EventIdOfOtherUser:
                {
                    if (recent.Pick(_rng, nowMs - DuplicateHorizonMs) is not { } original) return null;
                    var other = OtherUser(Profile(original.Event.UserId));
                    // A second reuse of the same id for the same user would be a duplicate: never reuse a pair.
                    if (!_reusedIds.Add((other.Id, original.Event.EventId))) return null;
                    return new SyntheticRecord(other.Id, Encoding.UTF8.GetBytes(Event(other, Quote(original.Event.EventId), iso)), kafkaMs, null);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no builder for this hostile kind");
        }
    }

    private UserProfile User() => _users[_rng.NextInt(_users.Length)].Profile;

    private UserProfile OtherUser(UserProfile user)
    {
        if (_users.Length < 2) return user;
        var other = _users[_rng.NextInt(_users.Length - 1)].Profile;
        return other.Index == user.Index ? _users[^1].Profile : other;
    }

    private UserProfile Profile(string userId) => _users.First(u => u.Profile.Id == userId).Profile;

    /// <summary>An event object with each field's raw JSON given (defaults: a page view of the user at the given ts).</summary>
    private static string Event(UserProfile user, string idJson, string tsJson, string? userJson = null, string? type = null, string? page = null,
        string properties = "{}", string value = "null", string extra = "") =>
        $"{{\"event_id\":{idJson},\"user_id\":{userJson ?? Quote(user.Id)},\"type\":{type ?? Quote("page_view")},\"ts\":{tsJson}," +
        $"\"page\":{page ?? Quote("/")},\"device\":{Quote(user.PrimaryDevice.ToString())},\"country\":{Quote(user.Country.ToString())}," +
        $"\"properties\":{properties},\"experiment_id\":null,\"variant\":null,\"value\":{value}{extra}}}";

    private static string Quote(string s) => "\"" + s + "\"";

    private static string Iso(long ms) => IsoTimestamp.Format(ms);

    /// <summary>Random bytes whose first byte can never start a JSON object (nor a UTF-8 BOM).</summary>
    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)_rng.NextInt(256);
        if (bytes[0] is (byte)'{' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF) bytes[0] = 0xFE;
        return bytes;
    }

    private static byte[] Splice(byte[] json, byte[] replacement)
    {
        var at = json.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Placeholder));
        return [.. json.AsSpan(0, at), .. replacement, .. json.AsSpan(at + Placeholder.Length)];
    }
}
