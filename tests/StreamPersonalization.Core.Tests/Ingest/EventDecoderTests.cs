using System.Text;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Synthetic;

namespace StreamPersonalization.Core.Tests.Ingest;

public sealed class EventDecoderTests
{
    // 2026-03-01T12:00:00.123Z computed independently of the parser.
    private static readonly long T0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private const string T0Text = "2026-03-01T12:00:00.123Z";
    private const string Fallback = "clickstream/3/1042";

    private static DecodeResult Decode(string json, string? key = "u1", long? kafkaMs = null, DecoderOptions? options = null) =>
        Decode(Encoding.UTF8.GetBytes(json), key, kafkaMs, options);

    private static DecodeResult Decode(byte[] value, string? key = "u1", long? kafkaMs = null, DecoderOptions? options = null) =>
        new EventDecoder(options ?? new DecoderOptions()).Decode(
            key is null ? ReadOnlySpan<byte>.Empty : Encoding.UTF8.GetBytes(key), value, kafkaMs ?? T0, Fallback);

    private static string Minimal(string extra = "") =>
        $$"""{"user_id":"u1","type":"click","ts":"{{T0Text}}"{{extra}}}""";

    private static void AssertRejected(DecodeResult r, RejectReason expected)
    {
        Assert.False(r.IsValid, $"expected {expected.Code()} but the record was accepted: {r}");
        Assert.True(r.Reason == expected, $"expected {expected.Code()} but got {r}");
        Assert.False(string.IsNullOrWhiteSpace(r.Detail));
    }

    private static ClickEvent AssertValid(DecodeResult r)
    {
        Assert.True(r.IsValid, $"expected a valid event but got {r}");
        return r.Event!;
    }

    [Fact]
    public void Decode_FullEvent_KeepsEveryField()
    {
        var json = $$$"""
            {"event_id":"e-17","user_id":"u1","type":"purchase","ts":"{{{T0Text}}}","page":"/checkout",
             "device":"mobile","country":"DE","value":19.99,"experiment_id":"exp-1","variant":"B",
             "properties":{"a":1,"b":{"c":2,"d":3},"e":[1,{"f":2}]},"unknown":{"x":[1,2,3]}}
            """;
        var e = AssertValid(Decode(json));
        Assert.Equal("e-17", e.EventId);
        Assert.Equal("u1", e.UserId);
        Assert.Equal(EventType.Purchase, e.Type);
        Assert.Equal("purchase", e.TypeName);
        Assert.Equal(T0, e.TimestampMs);
        Assert.Equal("/checkout", e.Page);
        Assert.Equal("mobile", e.Device);
        Assert.Equal("DE", e.Country);
        Assert.Equal(19.99, e.Value);
        Assert.Equal("exp-1", e.ExperimentId);
        Assert.Equal("B", e.Variant);
        Assert.Equal(3, e.PropertyCount);   // top-level keys of properties: a, b, e (not c, d, f)
    }

    [Fact]
    public void Decode_MinimalEvent_LeavesOptionalFieldsNull()
    {
        var e = AssertValid(Decode(Minimal()));
        Assert.Null(e.Page); Assert.Null(e.Device); Assert.Null(e.Country); Assert.Null(e.Value);
        Assert.Null(e.ExperimentId); Assert.Null(e.Variant);
        Assert.Equal(0, e.PropertyCount);
        Assert.Equal(EventType.Click, e.Type);
    }

    [Fact]
    public void Decode_NoEventId_UsesFallbackId()
    {
        Assert.Equal(Fallback, AssertValid(Decode(Minimal())).EventId);
        Assert.Equal(Fallback, AssertValid(Decode(Minimal(",\"event_id\":null"))).EventId);
    }

    [Fact]
    public void Decode_CustomType_IsCustomAndKeepsTypeName()
    {
        var e = AssertValid(Decode("""{"user_id":"u1","type":"wishlist_add","ts":"2026-03-01T12:00:00.123Z"}"""));
        Assert.Equal(EventType.Custom, e.Type);
        Assert.Equal("wishlist_add", e.TypeName);
    }

    [Fact]
    public void Decode_EscapedStrings_AreUnescaped()
    {
        // \u0041 = 'A', \u0070 = 'p', \u002D = '-', and an escaped field name.
        var json = """{"\u0075ser_id":"\u0041bc","type":"\u0070urchase","ts":"2026\u002D03-01T12:00:00.123Z","device":"mob\u0069le"}""";
        var e = AssertValid(Decode(json, key: "Abc"));
        Assert.Equal("Abc", e.UserId);
        Assert.Equal(EventType.Purchase, e.Type);
        Assert.Equal("purchase", e.TypeName);
        Assert.Equal(T0, e.TimestampMs);
        Assert.Equal("mobile", e.Device);
    }

    [Fact]
    public void Decode_NumericTs_IsEpochMilliseconds()
    {
        var e = AssertValid(Decode($$"""{"user_id":"u1","type":"click","ts":{{T0}}}"""));
        Assert.Equal(T0, e.TimestampMs);
        AssertRejected(Decode("""{"user_id":"u1","type":"click","ts":1.5}"""), RejectReason.BadTimestamp);
        AssertRejected(Decode("""{"user_id":"u1","type":"click","ts":-1}"""), RejectReason.BadTimestamp);
    }

    [Fact]
    public void Decode_TrailingWhitespace_IsAccepted()
    {
        AssertValid(Decode(Minimal() + " \n\t "));
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("{\"user_id\":\"u1\",\"type\":\"click\"")]                  // truncated
    [InlineData("{\"user_id\":\"u1\",\"type\":\"cli")]                        // truncated inside a string
    [InlineData("[{\"user_id\":\"u1\",\"type\":\"click\",\"ts\":\"2026-03-01T12:00:00.123Z\"}]")]   // array
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("{\"user_id\":\"u1\",\"type\":\"click\",\"ts\":\"2026-03-01T12:00:00.123Z\"} {}")]   // trailing data
    [InlineData("{\"user_id\":\"u1\",\"type\":\"click\",\"ts\":\"2026-03-01T12:00:00.123Z\"}x")]
    [InlineData("")]
    [InlineData("   ")]
    public void Decode_NotJson_IsRejectedAsNotJson(string value) =>
        AssertRejected(Decode(value), RejectReason.NotJson);

    [Fact]
    public void Decode_InvalidUtf8_IsRejectedAsNotJson()
    {
        var prefix = Encoding.UTF8.GetBytes("{\"user_id\":\"u1\",\"type\":\"click\",\"ts\":\"2026-03-01T12:00:00.123Z\",\"page\":\"");
        var suffix = Encoding.UTF8.GetBytes("\"}");
        foreach (byte[] bad in new[] { new byte[] { 0xFF }, [0xC3, 0x28], [0xED, 0xA0, 0x80], [0x80] })
            AssertRejected(Decode([.. prefix, .. bad, .. suffix]), RejectReason.NotJson);
    }

    [Fact]
    public void Decode_TruncatedValidEvent_IsNotJsonAtEveryCut()
    {
        var full = Encoding.UTF8.GetBytes(Minimal(""","user_id2":{"a":[1,2]}"""));
        for (var n = 1; n < full.Length; n++)
            AssertRejected(Decode(full[..n]), RejectReason.NotJson);
    }

    [Theory]
    [InlineData("""{"type":"click","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":null,"type":"click","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"","type":"click","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","type":null,"ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","type":"","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","type":"click"}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":null}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":""}""")]
    public void Decode_RequiredFieldAbsentNullOrEmpty_IsMissingField(string json) =>
        AssertRejected(Decode(json, key: null), RejectReason.MissingField);

    [Theory]
    [InlineData("not-a-date")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2026-03-01T12:00:00")]
    [InlineData("2026-03-01T12:00:00.123")]
    [InlineData("2026-03-01T25:00:00Z")]
    [InlineData("1969-12-31T23:59:59Z")]
    public void Decode_UnparseableTs_IsBadTimestamp(string ts) =>
        AssertRejected(Decode($$"""{"user_id":"u1","type":"click","ts":"{{ts}}"}"""), RejectReason.BadTimestamp);

    [Fact]
    public void Decode_TsAtMaxFutureSkew_IsAccepted_OneMsMore_IsRejected()
    {
        var kafka = T0;
        var skewMs = 5 * 60 * 1000L;   // default MaxFutureSkew
        string Json(long ts) => $$"""{"user_id":"u1","type":"click","ts":{{ts}}}""";
        Assert.Equal(kafka + skewMs, AssertValid(Decode(Json(kafka + skewMs), kafkaMs: kafka)).TimestampMs);
        AssertRejected(Decode(Json(kafka + skewMs + 1), kafkaMs: kafka), RejectReason.FutureTimestamp);

        // ISO form and a custom skew: 2026-03-01T12:01:00.123Z is 60,000 ms after T0.
        var options = new DecoderOptions { MaxFutureSkew = TimeSpan.FromMinutes(1) };
        AssertValid(Decode(Minimal().Replace("12:00:00.123", "12:01:00.123"), options: options));
        AssertRejected(Decode(Minimal().Replace("12:00:00.123", "12:01:00.124"), options: options), RejectReason.FutureTimestamp);
        // Events in the past relative to Kafka are fine.
        AssertValid(Decode(Json(kafka - 86_400_000L * 365), kafkaMs: kafka));
    }

    [Fact]
    public void Decode_ZeroSkew_RejectsAnyFutureMillisecond()
    {
        var options = new DecoderOptions { MaxFutureSkew = TimeSpan.Zero };
        AssertValid(Decode(Minimal(), kafkaMs: T0, options: options));
        AssertRejected(Decode(Minimal(), kafkaMs: T0 - 1, options: options), RejectReason.FutureTimestamp);
    }

    [Fact]
    public void Decode_ValueOverLimit_IsTooLarge()
    {
        var options = new DecoderOptions { MaxValueBytes = 256 };
        var padding = new string('x', 256);
        var json = Minimal($$""","page":"{{padding}}" """);
        Assert.True(Encoding.UTF8.GetByteCount(json) > 256);
        AssertRejected(Decode(json, options: options), RejectReason.TooLarge);
        // Exactly at the limit is accepted: pad the page so the whole value is 256 bytes.
        var baseLength = Encoding.UTF8.GetByteCount(Minimal(""","page":"" """));
        var exact = Minimal($$""","page":"{{new string('x', 256 - baseLength)}}" """);
        Assert.Equal(256, Encoding.UTF8.GetByteCount(exact));
        AssertValid(Decode(exact, options: options));
        // Even garbage over the limit is too_large (size is checked first).
        AssertRejected(Decode(new byte[300], options: options), RejectReason.TooLarge);
    }

    [Fact]
    public void Decode_UserIdOverMaxLength_IsTooLarge()
    {
        var options = new DecoderOptions { MaxUserIdLength = 4 };
        AssertValid(Decode("""{"user_id":"abcd","type":"click","ts":"2026-03-01T12:00:00.123Z"}""", key: "abcd", options: options));
        AssertRejected(Decode("""{"user_id":"abcde","type":"click","ts":"2026-03-01T12:00:00.123Z"}""", key: "abcde", options: options), RejectReason.TooLarge);
    }

    [Theory]
    [InlineData("""{"user_id":123,"type":"click","ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":"2026-03-01T12:00:00.123Z","value":"12.5"}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":"2026-03-01T12:00:00.123Z","properties":[1,2]}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":true}""")]
    [InlineData("""{"user_id":"u1","type":{"a":1},"ts":"2026-03-01T12:00:00.123Z"}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":"2026-03-01T12:00:00.123Z","device":7}""")]
    [InlineData("""{"user_id":"u1","type":"click","ts":"2026-03-01T12:00:00.123Z","properties":"x"}""")]
    public void Decode_KnownFieldWithWrongType_IsWrongFieldType(string json) =>
        AssertRejected(Decode(json), RejectReason.WrongFieldType);

    [Fact]
    public void Decode_KeyDiffersFromUserId_IsKeyMismatch()
    {
        AssertRejected(Decode(Minimal(), key: "u2"), RejectReason.KeyMismatch);
        AssertRejected(Decode(Minimal(), key: "u1 "), RejectReason.KeyMismatch);
        AssertValid(Decode(Minimal(), key: null));   // absent key: no check
        var unicode = """{"user_id":"Jürgen","type":"click","ts":"2026-03-01T12:00:00.123Z"}""";
        AssertValid(Decode(unicode, key: "Jürgen"));
        AssertRejected(Decode(unicode, key: "Jurgen"), RejectReason.KeyMismatch);
    }

    /// <summary>k nested containers: k=1 is {}, k=2 is {"a":{}}, ...; alternating objects and arrays when mixed.</summary>
    private static string Nest(int k, bool arrays = false)
    {
        var s = arrays ? "[]" : "{}";
        for (var i = 1; i < k; i++) s = arrays && i % 2 == 1 ? $"[{s}]" : $$"""{"a":{{s}}}""";
        return s;
    }

    [Theory]
    [InlineData("properties", false)]
    [InlineData("properties", true)]
    [InlineData("something_else", false)]
    [InlineData("something_else", true)]
    public void Decode_NestingOverMaxDepth_IsTooDeep_AtMaxDepthAccepted(string field, bool arrays)
    {
        // The event object is level 1, so a value of k nested containers reaches level k + 1.
        // MaxDepth 8: k = 7 is exactly at the limit, k = 8 is one over.
        var options = new DecoderOptions();
        Assert.Equal(8, options.MaxDepth);
        string Json(int k) => Minimal($$""","{{field}}":{{(field == "properties" ? "{\"p\":" + Nest(k - 1, arrays) + "}" : Nest(k, arrays))}}""");
        AssertValid(Decode(Json(7)));
        AssertRejected(Decode(Json(8)), RejectReason.TooDeep);
        AssertRejected(Decode(Json(60)), RejectReason.TooDeep);
    }

    [Fact]
    public void Decode_CustomMaxDepth_CountsEventObjectAsLevelOne()
    {
        var options = new DecoderOptions { MaxDepth = 2 };
        AssertValid(Decode(Minimal(""","properties":{"a":1}"""), options: options));
        AssertValid(Decode(Minimal(""","x":[1,2]"""), options: options));
        AssertRejected(Decode(Minimal(""","properties":{"a":{}}"""), options: options), RejectReason.TooDeep);
        AssertRejected(Decode(Minimal(""","x":[[1]]"""), options: options), RejectReason.TooDeep);
    }

    [Theory]
    [InlineData(nameof(DecoderOptions.MaxValueBytes), "Ingest:MaxValueBytes")]
    [InlineData(nameof(DecoderOptions.MaxDepth), "Ingest:MaxDepth")]
    [InlineData(nameof(DecoderOptions.MaxFutureSkew), "Ingest:MaxFutureSkew")]
    [InlineData(nameof(DecoderOptions.MaxUserIdLength), "Ingest:MaxUserIdLength")]
    public void Validate_OutOfRange_NamesTheKey(string property, string key)
    {
        var bad = property switch
        {
            nameof(DecoderOptions.MaxValueBytes) => new DecoderOptions { MaxValueBytes = 255 },
            nameof(DecoderOptions.MaxDepth) => new DecoderOptions { MaxDepth = 65 },
            nameof(DecoderOptions.MaxFutureSkew) => new DecoderOptions { MaxFutureSkew = TimeSpan.FromMilliseconds(-1) },
            _ => new DecoderOptions { MaxUserIdLength = 0 },
        };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => bad.Validate());
        Assert.Equal(key, ex.ParamName);
        Assert.Contains($"'{key}'", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventDecoder(bad));
    }

    [Fact]
    public void Validate_Boundaries_AreAccepted()
    {
        new DecoderOptions { MaxValueBytes = 256, MaxDepth = 2, MaxFutureSkew = TimeSpan.Zero, MaxUserIdLength = 1 }.Validate();
        new DecoderOptions { MaxValueBytes = 16 * 1024 * 1024, MaxDepth = 64, MaxFutureSkew = TimeSpan.FromDays(7), MaxUserIdLength = 4096 }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecoderOptions { MaxFutureSkew = TimeSpan.FromDays(7).Add(TimeSpan.FromTicks(1)) }.Validate());
    }

    [Fact]
    public void Decode_GeneratedRecords_AgreeWithGeneratorLabels()
    {
        var records = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = 11, BadRecordShare = 0.2 }).Generate(50_000).ToList();
        var decoder = new EventDecoder(new DecoderOptions());
        var mismatches = new List<string>();
        int valid = 0, rejected = 0;
        var reasonsSeen = new HashSet<RejectReason>();
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var key = r.Key is null ? [] : Encoding.UTF8.GetBytes(r.Key);
            var result = decoder.Decode(key, r.Value, r.TimestampMs, $"t/0/{i}");
            RejectReason? got = result.IsValid ? null : result.Reason;
            if (got is null) valid++; else { rejected++; reasonsSeen.Add(got.Value); }
            if (got != r.ExpectedReject && mismatches.Count < 10)
                mismatches.Add($"#{i}: expected {r.ExpectedReject?.Code() ?? "valid"}, got {result} for {Encoding.UTF8.GetString(r.Value[..Math.Min(200, r.Value.Length)])}");
            if (result.IsValid && result.Event!.UserId != r.Key)
                mismatches.Add($"#{i}: user_id {result.Event.UserId} differs from key {r.Key}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        // BadRecordShare 0.2: roughly 10,000 bad records; the generator covers many reasons.
        Assert.InRange(rejected, 8_000, 12_000);
        Assert.True(reasonsSeen.Count >= 6, $"only {reasonsSeen.Count} reasons seen");
    }
}
