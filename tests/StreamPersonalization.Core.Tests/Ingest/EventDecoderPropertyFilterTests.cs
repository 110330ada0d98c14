using System.Diagnostics;
using System.Text;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Synthetic;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Ingest;

public sealed class EventDecoderPropertyFilterTests(ITestOutputHelper output)
{
    private const string Ts = "2026-03-01T12:00:00.123Z";
    private static readonly long KafkaMs = new DateTimeOffset(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static readonly PropertyAllowlistOptions Allowlist = new()
    {
        Enabled = true,
        Allowlist = new() { ["page_view"] = ["referrer", "section"], ["click"] = ["target"], ["add_to_cart"] = ["sku"] },
    };

    private static DecodeResult Decode(EventDecoder decoder, string json) =>
        decoder.Decode("u1"u8, Encoding.UTF8.GetBytes(json), KafkaMs, "t/0/1");

    [Fact]
    public void Decode_FilterOff_PropertiesResultIsNull()
    {
        var r = Decode(new EventDecoder(new DecoderOptions()), $$$"""{"user_id":"u1","type":"page_view","ts":"{{{Ts}}}","properties":{"email":"a@b.de"}}""");
        Assert.True(r.IsValid);
        Assert.Null(r.Properties);
        Assert.Equal(1, r.Event!.PropertyCount);
    }

    [Fact]
    public void Decode_FilterOn_KeepsAllowlistedAndCountsDrops_EvenWhenTypeFollowsProperties()
    {
        var decoder = new EventDecoder(new DecoderOptions(), propertyFilter: PropertyFilter.Create(Allowlist));
        // "type" after "properties": the allowlist must still use page_view's list.
        var r = Decode(decoder, $$$"""{"user_id":"u1","properties":{"referrer":"news","email":"a@b.de","section":"x@y.org","deep":{"a":1}},"type":"page_view","ts":"{{{Ts}}}"}""");
        Assert.True(r.IsValid, r.ToString());
        Assert.Equal("referrer=\"news\"", Assert.Single(r.Properties!.Kept).ToString());
        Assert.Equal(new PropertyDropCounts(NotAllowlisted: 2, PiiEmail: 1, PiiPhone: 0, PiiIp: 0, NotScalar: 0), r.Properties.Dropped);
        Assert.Equal(4, r.Event!.PropertyCount);   // the wire count is unchanged
    }

    [Fact]
    public void Decode_FirstPassDecision_EqualsTheFullFilterOnRandomProperties()
    {
        // When the type comes first the decoder decides the minimisation during its first walk and reports drop counts
        // only; otherwise it runs PropertyFilter.FilterJson. The drop counts must equal FilterJson's either way.
        var filter = PropertyFilter.Create(Allowlist)!;
        var decoder = new EventDecoder(new DecoderOptions(), propertyFilter: filter);
        string[] names = ["referrer", "section", "target", "sku", "email", "colour", "ref\u0065rrer", "s\u00e9ction", new string('n', 300), "section"];
        string[] values = ["\"news\"", "\"a@b.de\"", "3", "true", "null", "{\"x\":1}", "[1,2]", "\"+49 30 1234567\""];
        var rng = new Random(7);
        for (var i = 0; i < 3_000; i++)
        {
            var type = new[] { "page_view", "click", "add_to_cart", "scroll" }[rng.Next(4)];
            var props = "{" + string.Join(",", Enumerable.Range(0, rng.Next(0, 5)).Select(_ => $"\"{names[rng.Next(names.Length)]}\":{values[rng.Next(values.Length)]}")) + "}";
            var typeFirst = rng.Next(2) == 0;
            var json = typeFirst
                ? $$$"""{"user_id":"u1","type":"{{{type}}}","properties":{{{props}}},"ts":"{{{Ts}}}"}"""
                : $$$"""{"user_id":"u1","properties":{{{props}}},"type":"{{{type}}}","ts":"{{{Ts}}}"}""";
            var r = Decode(decoder, json);
            Assert.True(r.IsValid, json);
            var expected = filter.FilterJson(type, Encoding.UTF8.GetBytes(props));
            Assert.Equal(expected.Dropped, r.Properties!.Dropped);
            Assert.Equal(expected.KeptCount, r.Properties.KeptCount);
            if (typeFirst) Assert.Empty(r.Properties.Kept);   // kept values are not materialised: nothing stores them
            else Assert.Equal(expected.Kept.Select(p => p.ToString()), r.Properties.Kept.Select(p => p.ToString()));
        }
    }

    [Fact]
    public void Decode_FilterOn_NoPropertiesOrRejected_BehavesAsBefore()
    {
        var decoder = new EventDecoder(new DecoderOptions(), propertyFilter: PropertyFilter.Create(Allowlist));
        Assert.Same(PropertyFilterResult.Empty, Decode(decoder, $$$"""{"user_id":"u1","type":"click","ts":"{{{Ts}}}"}""").Properties);
        Assert.Same(PropertyFilterResult.Empty, Decode(decoder, $$$"""{"user_id":"u1","type":"click","ts":"{{{Ts}}}","properties":null}""").Properties);
        var bad = Decode(decoder, $$$"""{"user_id":"u1","type":"click","ts":"{{{Ts}}}","properties":{"target":"a"},"value":"x"}""");
        Assert.False(bad.IsValid);
        Assert.Equal(RejectReason.WrongFieldType, bad.Reason);
        Assert.Null(bad.Properties);
    }

    [Fact]
    public void Decode_GeneratedStream_SameVerdictsWithAndWithoutFilter_AndPrintsThroughput()
    {
        var records = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = 5, Users = 20_000, BadRecordShare = 0.01 }).Generate(50_000).ToList();
        var keys = records.Select(r => r.Key is null ? [] : Encoding.UTF8.GetBytes(r.Key)).ToArray();
        var plain = new EventDecoder(new DecoderOptions());
        var filtered = new EventDecoder(new DecoderOptions(), propertyFilter: PropertyFilter.Create(Allowlist));
        var drops = new PropertyDropCounts();
        long kept = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var a = plain.Decode(keys[i], records[i].Value, records[i].TimestampMs, "t/0/1");
            var b = filtered.Decode(keys[i], records[i].Value, records[i].TimestampMs, "t/0/1");
            Assert.Equal(a.IsValid, b.IsValid);
            Assert.Equal(a.Reason, b.Reason);
            if (!b.IsValid) continue;
            Assert.Equal(b.Event!.PropertyCount, b.Properties!.KeptCount + b.Properties.Dropped.Total);
            drops += b.Properties.Dropped;
            kept += b.Properties.KeptCount;
        }
        Assert.True(kept > 0 && drops.NotAllowlisted > 0, $"kept {kept}, {drops}");

        // Throughput figures (no timed assertion; run this test alone for stable numbers): the verdict pass above
        // warmed both decoders up; best of 5 passes each, alternating so both see the same machine noise.
        double Rate(EventDecoder d)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < records.Count; i++) d.Decode(keys[i], records[i].Value, records[i].TimestampMs, "t/0/1");
            return records.Count / sw.Elapsed.TotalSeconds;
        }
        double off = 0, on = 0;
        for (var pass = 0; pass < 5; pass++) { off = Math.Max(off, Rate(plain)); on = Math.Max(on, Rate(filtered)); }
        output.WriteLine($"decode, {records.Count:N0} generated records, one thread: allowlist off {off / 1e6:F3} M/s, on {on / 1e6:F3} M/s ({(on / off - 1) * 100:+0.0;-0.0} %); kept {kept:N0} properties, {drops}");
    }
}
