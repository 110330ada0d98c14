using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Synthetic;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Synthetic;

public class ClickstreamGeneratorTests(ITestOutputHelper output)
{
    private const int SampleSize = 100_000;
    private static readonly ClickstreamGeneratorOptions Defaults = new();

    /// <summary>One shared 100k default sample: generating it once keeps the suite fast on a shared machine.</summary>
    private static readonly Lazy<List<LabeledRecord>> Sample =
        new(() => new ClickstreamGenerator(Defaults).GenerateLabeled(SampleSize).ToList());

    private static IEnumerable<LabeledRecord> Valid => Sample.Value.Where(r => r.Record.ExpectedReject is null);

    private static readonly HashSet<string> KnownTypes =
    [
        "page_view", "click", "scroll", "add_to_cart", "purchase", "video_play", "form_submit", "exposure", "wishlist_add",
    ];

    private static readonly string[] SchemaFields =
    [
        "event_id", "user_id", "type", "ts", "page", "device", "country", "properties", "experiment_id", "variant", "value",
    ];

    private static long ParseTs(string ts) =>
        DateTimeOffset.ParseExact(ts, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();

    private static long EventTs(SyntheticRecord r)
    {
        using var doc = JsonDocument.Parse(r.Value);
        return ParseTs(doc.RootElement.GetProperty("ts").GetString()!);
    }

    [Fact]
    public void Generate_SameSeed_ProducesIdenticalBytes()
    {
        var a = new ClickstreamGenerator(new() { Users = 500 }).Generate(20_000).ToList();
        var b = new ClickstreamGenerator(new() { Users = 500 }).Generate(20_000).ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Key, b[i].Key);
            Assert.Equal(a[i].TimestampMs, b[i].TimestampMs);
            Assert.Equal(a[i].ExpectedReject, b[i].ExpectedReject);
            Assert.True(a[i].Value.AsSpan().SequenceEqual(b[i].Value), $"record {i} differs");
        }
    }

    [Fact]
    public void Generate_DifferentSeed_ProducesDifferentRecords()
    {
        var a = new ClickstreamGenerator(new() { Seed = 1, Users = 500 }).Generate(1_000).ToList();
        var b = new ClickstreamGenerator(new() { Seed = 2, Users = 500 }).Generate(1_000).ToList();
        int same = a.Zip(b).Count(p => p.First.Value.AsSpan().SequenceEqual(p.Second.Value));
        Assert.True(same < 10, $"{same} identical records across seeds");
    }

    [Fact]
    public void Generate_ShorterRun_IsPrefixOfLongerRun()
    {
        var generator = new ClickstreamGenerator(new() { Users = 300 });
        var shortRun = generator.Generate(2_000).ToList();
        var longRun = generator.Generate(5_000).Take(2_000).ToList();
        Assert.True(shortRun.Zip(longRun).All(p => p.First.Value.AsSpan().SequenceEqual(p.Second.Value)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12_345)]
    public void Generate_Count_YieldsExactlyCountRecords(long count)
    {
        Assert.Equal(count, new ClickstreamGenerator(new() { Users = 100 }).Generate(count).LongCount());
    }

    [Fact]
    public void Generate_AllBad_YieldsExactlyCountBadRecords()
    {
        var records = new ClickstreamGenerator(new() { Users = 10, BadRecordShare = 1 }).Generate(500).ToList();
        Assert.Equal(500, records.Count);
        Assert.All(records, r => Assert.NotNull(r.ExpectedReject));
    }

    [Fact]
    public void Generate_DefaultBadShare_IsWithinTolerance()
    {
        double share = Sample.Value.Count(r => r.Record.ExpectedReject is not null) / (double)SampleSize;
        output.WriteLine($"bad share {share:P3} (target {Defaults.BadRecordShare:P1})");
        Assert.InRange(share, 0.008, 0.012);
    }

    [Fact]
    public void Generate_HighBadShare_IsWithinTolerance()
    {
        var records = new ClickstreamGenerator(new() { Users = 1_000, BadRecordShare = 0.2 }).Generate(20_000);
        double share = records.Count(r => r.ExpectedReject is not null) / 20_000.0;
        Assert.InRange(share, 0.18, 0.22);
    }

    [Fact]
    public void Generate_BadRecords_DoNotDisturbValidStream()
    {
        var clean = new ClickstreamGenerator(new() { Users = 500, BadRecordShare = 0 }).Generate(5_000).ToList();
        var dirty = new ClickstreamGenerator(new() { Users = 500, BadRecordShare = 0.3 }).Generate(9_000)
            .Where(r => r.ExpectedReject is null).Take(clean.Count).ToList();
        Assert.Equal(clean.Count, dirty.Count);
        for (int i = 0; i < clean.Count; i++)
        {
            Assert.True(clean[i].Value.AsSpan().SequenceEqual(dirty[i].Value), $"valid record {i} changed");
            Assert.Equal(clean[i].Key, dirty[i].Key);
        }
    }

    [Fact]
    public void Generate_ValidRecords_MatchSchemaAndTypes()
    {
        var eventIds = new HashSet<string>();
        var devices = Defaults.Devices.Select(d => d.Value).ToHashSet();
        var countries = Defaults.Countries.Select(c => c.Value).ToHashSet();
        foreach (var (record, _, _) in Valid)
        {
            Assert.True(new UTF8Encoding(false, true).GetString(record.Value).Length > 0);
            using var doc = JsonDocument.Parse(record.Value);
            var root = doc.RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.Equal(SchemaFields, root.EnumerateObject().Select(p => p.Name));

            Assert.True(eventIds.Add(root.GetProperty("event_id").GetString()!), "duplicate event_id");
            string userId = root.GetProperty("user_id").GetString()!;
            Assert.Equal(record.Key, userId);
            Assert.Matches("^u[0-9]{6}$", userId);
            string type = root.GetProperty("type").GetString()!;
            Assert.Contains(type, KnownTypes);
            string ts = root.GetProperty("ts").GetString()!;
            Assert.Equal(IsoTimestamp.Format(ParseTs(ts)), ts);
            Assert.StartsWith("/", root.GetProperty("page").GetString());
            Assert.Contains(root.GetProperty("device").GetString()!, devices);
            Assert.Contains(root.GetProperty("country").GetString()!, countries);
            Assert.Equal(JsonValueKind.Object, root.GetProperty("properties").ValueKind);
            Assert.True(root.GetProperty("properties").EnumerateObject().Count() <= 1);

            var experiment = root.GetProperty("experiment_id");
            var variant = root.GetProperty("variant");
            bool exposure = type == "exposure";
            Assert.Equal(exposure ? JsonValueKind.String : JsonValueKind.Null, experiment.ValueKind);
            Assert.Equal(exposure ? JsonValueKind.String : JsonValueKind.Null, variant.ValueKind);
            var value = root.GetProperty("value");
            Assert.Equal(type == "purchase" ? JsonValueKind.Number : JsonValueKind.Null, value.ValueKind);
        }
    }

    [Fact]
    public void Generate_PerUser_EventTimeOrderedExceptBoundedOutOfOrder()
    {
        var maxSeen = new Dictionary<string, long>();
        int late = 0, flagged = 0, valid = 0;
        foreach (var (record, _, outOfOrder) in Valid)
        {
            valid++;
            if (outOfOrder) flagged++;
            long ts = EventTs(record);
            if (maxSeen.TryGetValue(record.Key!, out long max) && ts < max)
            {
                late++;
                Assert.True(outOfOrder, $"{record.Key} event at {ts} lags {max - ts} ms but was not emitted out of order");
                Assert.True(max - ts <= Defaults.MaxOutOfOrderMs, $"lag {max - ts} ms exceeds MaxOutOfOrderMs");
            }
            else maxSeen[record.Key!] = ts;
        }
        output.WriteLine($"{flagged} of {valid} valid events delayed ({flagged / (double)valid:P2}), {late} observably out of order per user");
        Assert.InRange(flagged / (double)valid, 0.015, 0.025);
    }

    [Fact]
    public void Generate_GlobalOrder_IsApproximatelyEventTime()
    {
        long globalMax = Defaults.StartTime.ToUnixTimeMilliseconds();
        foreach (var (record, _, _) in Valid)
        {
            long ts = EventTs(record);
            Assert.True(ts >= globalMax - Defaults.MaxOutOfOrderMs, "record lags the global clock by more than MaxOutOfOrderMs");
            globalMax = Math.Max(globalMax, ts);
        }
    }

    [Fact]
    public void Generate_KafkaTimestamp_BetweenEventTimeAndMaxDelays()
    {
        foreach (var (record, _, _) in Valid)
        {
            long ts = EventTs(record);
            Assert.InRange(record.TimestampMs, ts, ts + Defaults.MaxIngestDelayMs + Defaults.MaxOutOfOrderMs);
        }
    }

    [Fact]
    public void Generate_Sessions_SeparatedByLongGapsWithShortGapsInside()
    {
        var perUser = Valid.GroupBy(r => r.Record.Key!).Select(g => g.Select(r => EventTs(r.Record)).Order().ToArray());
        int sessionsSeen = 0;
        foreach (var times in perUser)
            for (int i = 1; i < times.Length; i++)
            {
                long gap = times[i] - times[i - 1];
                Assert.True(gap <= 10 * 60_000 || gap >= 60 * 60_000, $"gap {gap} ms is ambiguous for a 30-minute sessionizer");
                if (gap >= 60 * 60_000) sessionsSeen++;
            }
        Assert.True(sessionsSeen > 100, $"only {sessionsSeen} session boundaries in the sample");
    }

    [Fact]
    public void Generate_Funnel_PurchasesFollowCartsWithPositiveValue()
    {
        var counts = new Dictionary<string, int>();
        foreach (var (record, _, _) in Valid)
        {
            using var doc = JsonDocument.Parse(record.Value);
            string type = doc.RootElement.GetProperty("type").GetString()!;
            counts[type] = counts.GetValueOrDefault(type) + 1;
            if (type == "purchase") Assert.True(doc.RootElement.GetProperty("value").GetDecimal() > 0);
        }
        output.WriteLine(string.Join(", ", counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.True(counts["purchase"] > 0);
        Assert.True(counts["purchase"] <= counts["add_to_cart"]);
        Assert.True(counts["add_to_cart"] < counts["page_view"]);
        foreach (var type in KnownTypes) Assert.True(counts.GetValueOrDefault(type) > 0, $"no {type} events");
        Assert.True(counts["wishlist_add"] < 0.05 * SampleSize, "custom type should be a small share");
    }

    [Fact]
    public void Generate_Users_HaveSkewedActivityAndMostlyFixedDevice()
    {
        var byUser = Valid.GroupBy(r => r.Record.Key!).ToList();
        var sizes = byUser.Select(g => g.Count()).OrderDescending().ToArray();
        double topDecileShare = sizes.Take(Math.Max(1, sizes.Length / 10)).Sum() / (double)sizes.Sum();
        output.WriteLine($"{sizes.Length} active users, top 10% produce {topDecileShare:P1} of events");
        Assert.True(topDecileShare > 0.25);

        int onModalDevice = 0, total = 0;
        foreach (var g in byUser)
        {
            var devices = g.Select(r => { using var d = JsonDocument.Parse(r.Record.Value); return d.RootElement.GetProperty("device").GetString(); }).ToList();
            onModalDevice += devices.GroupBy(d => d).Max(x => x.Count());
            total += devices.Count;
        }
        Assert.InRange(onModalDevice / (double)total, 0.85, 0.999);
    }

    [Fact]
    public void Generate_BadRecords_EveryKindAppearsWithExpectedReason()
    {
        var expected = new Dictionary<BadRecordKind, RejectReason>
        {
            [BadRecordKind.RandomBytes] = RejectReason.NotJson,
            [BadRecordKind.TruncatedJson] = RejectReason.NotJson,
            [BadRecordKind.InvalidUtf8InString] = RejectReason.NotJson,
            [BadRecordKind.TopLevelArray] = RejectReason.NotJson,
            [BadRecordKind.TopLevelNumber] = RejectReason.NotJson,
            [BadRecordKind.MissingUserId] = RejectReason.MissingField,
            [BadRecordKind.MissingType] = RejectReason.MissingField,
            [BadRecordKind.MissingTs] = RejectReason.MissingField,
            [BadRecordKind.UnparseableTs] = RejectReason.BadTimestamp,
            [BadRecordKind.OutOfRangeTs] = RejectReason.BadTimestamp,
            [BadRecordKind.FutureTs] = RejectReason.FutureTimestamp,
            [BadRecordKind.UserIdAsNumber] = RejectReason.WrongFieldType,
            [BadRecordKind.ValueAsString] = RejectReason.WrongFieldType,
            [BadRecordKind.TooLarge] = RejectReason.TooLarge,
        };
        Assert.Equal(Enum.GetValues<BadRecordKind>().Length, expected.Count);
        var bad = Sample.Value.Where(r => r.BadKind is not null).ToList();
        foreach (var (kind, reason) in expected)
        {
            var ofKind = bad.Where(r => r.BadKind == kind).ToList();
            output.WriteLine($"{kind,-20} {ofKind.Count,4} -> {reason.Code()}");
            Assert.NotEmpty(ofKind);
            Assert.All(ofKind, r => Assert.Equal(reason, r.Record.ExpectedReject));
            Assert.All(ofKind, r => CheckDefect(kind, r.Record));
        }
        Assert.Contains(bad, r => r.Record.Key is null);
        Assert.True(bad.Count(r => r.BadKind == BadRecordKind.TooLarge) < 0.05 * bad.Count);
    }

    /// <summary>Independently confirms the record really has the defect its label claims.</summary>
    private static void CheckDefect(BadRecordKind kind, SyntheticRecord r)
    {
        switch (kind)
        {
            case BadRecordKind.InvalidUtf8InString:
                Assert.ThrowsAny<DecoderFallbackException>(() => new UTF8Encoding(false, true).GetString(r.Value));
                // JsonDocument.Parse accepts invalid UTF-8 inside strings; only transcoding (GetString) throws,
                // so a validator must check UTF-8 explicitly (e.g. Utf8.IsValid) to reject these as not_json.
                using (var doc = JsonDocument.Parse(r.Value))
                    Assert.Throws<InvalidOperationException>(() => doc.RootElement.GetProperty("page").GetString());
                break;
            case BadRecordKind.RandomBytes or BadRecordKind.TruncatedJson or BadRecordKind.TopLevelArray or BadRecordKind.TopLevelNumber:
                Assert.False(IsJsonObject(r.Value));
                break;
            case BadRecordKind.TooLarge:
                Assert.True(r.Value.Length > 64 * 1024);
                Assert.True(IsJsonObject(r.Value));
                break;
            default:
            {
                using var doc = JsonDocument.Parse(r.Value);
                var root = doc.RootElement;
                if (Text(root, "user_id") is { Length: > 0 } userId) Assert.Equal(r.Key, userId);
                switch (kind)
                {
                    case BadRecordKind.MissingUserId: Assert.True(string.IsNullOrEmpty(Text(root, "user_id"))); break;
                    case BadRecordKind.MissingType: Assert.True(string.IsNullOrEmpty(Text(root, "type"))); break;
                    case BadRecordKind.MissingTs: Assert.True(string.IsNullOrEmpty(Text(root, "ts"))); break;
                    case BadRecordKind.UnparseableTs or BadRecordKind.OutOfRangeTs:
                        Assert.False(DateTimeOffset.TryParse(Text(root, "ts"), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
                        break;
                    case BadRecordKind.FutureTs:
                        Assert.True(ParseTs(Text(root, "ts")!) > r.TimestampMs + 5 * 60_000);
                        break;
                    case BadRecordKind.UserIdAsNumber: Assert.Equal(JsonValueKind.Number, root.GetProperty("user_id").ValueKind); break;
                    case BadRecordKind.ValueAsString: Assert.Equal(JsonValueKind.String, root.GetProperty("value").ValueKind); break;
                }
                break;
            }
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static bool IsJsonObject(byte[] value)
    {
        try
        {
            using var doc = JsonDocument.Parse(value);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [Fact]
    public void Generate_OneRecordPerType_IsLoggedForReaders()
    {
        var firstOfType = Valid.Select(r => r.Record)
            .GroupBy(r => { using var d = JsonDocument.Parse(r.Value); return d.RootElement.GetProperty("type").GetString()!; })
            .Select(g => g.First());
        foreach (var r in firstOfType) output.WriteLine($"{r.Key} @{r.TimestampMs}: {Encoding.UTF8.GetString(r.Value)}");
        foreach (var r in Sample.Value.Where(r => r.BadKind is not null and not BadRecordKind.TooLarge).DistinctBy(r => r.BadKind))
            output.WriteLine($"{r.BadKind} key={r.Record.Key ?? "null"}: {Encoding.UTF8.GetString(r.Record.Value)}");
        Assert.NotEmpty(firstOfType);
    }
}
