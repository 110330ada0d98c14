using System.Diagnostics;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Segments;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Segments;

public class SegmentCatalogTests(ITestOutputHelper output)
{
    private static SegmentCatalog Catalog(params string[] rules) => SegmentCatalogLoader.Parse(
        "version: 1\nsegments:\n" + string.Concat(rules.Select((r, i) => $"  - id: s{i}\n    rule: \"{r}\"\n")),
        "test.yaml");

    /// <summary>The repository's default catalog, found by walking up from the test binaries.</summary>
    private static string DefaultCatalogPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "config", "segments.yaml");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("config/segments.yaml not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Evaluate_SetsBitPerMatchingSegment()
    {
        var catalog = Catalog("sessions_7d >= 2", "revenue_30d >= 200", "country == 'DE'", "true");
        Assert.Equal(0b1000UL, catalog.Evaluate(default));
        Assert.Equal(0b1101UL, catalog.Evaluate(new UserFeatures { Sessions7d = 5, Country = "DE" }));
        Assert.Equal(0b1010UL, catalog.Evaluate(new UserFeatures { Revenue30d = 250 }));
        Assert.Equal(["s1", "s3"], catalog.IdsOf(0b1010UL));
    }

    [Fact]
    public void Evaluate_64Segments_UsesAllBits()
    {
        var catalog = Catalog(Enumerable.Range(0, 64).Select(i => $"sessions_7d >= {i}").ToArray());
        Assert.Equal(ulong.MaxValue, catalog.Evaluate(new UserFeatures { Sessions7d = 63 }));
        Assert.Equal(1UL, catalog.Evaluate(default));
        Assert.Equal((1UL << 63) - 1, catalog.Evaluate(new UserFeatures { Sessions7d = 62 }));
    }

    [Fact]
    public void Evaluate_NullStrings_DoNotMatch()
    {
        var catalog = Catalog("device == 'mobile'", "device != 'mobile'", "country in ['DE', 'FR']", "country not in ['DE']");
        Assert.Equal(0b1010UL, catalog.Evaluate(new UserFeatures { Device = null, Country = null }));
    }

    [Fact]
    public void Constructor_RejectsMisindexedSegments()
    {
        var rule = Core.Rules.RuleCompiler.Compile("true");
        Assert.Throws<ArgumentException>(() => new SegmentCatalog(1, [new SegmentDefinition("a", "", rule, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SegmentCatalog(0, []));
    }

    [Fact]
    public void LoadFile_DefaultCatalog_LoadsAndClassifiesTypicalUsers()
    {
        var catalog = SegmentCatalogLoader.LoadFile(DefaultCatalogPath());
        Assert.InRange(catalog.Segments.Count, 5, 10);
        var abandoner = new UserFeatures { AddToCarts7d = 2, Sessions7d = 3, Device = "mobile", Country = "DE", DaysSinceLastSession = 0 };
        var ids = catalog.IdsOf(catalog.Evaluate(abandoner));
        Assert.Contains("cart_abandoner", ids);
        Assert.Contains("mobile_germany", ids);
        Assert.Contains("active", ids);
        Assert.DoesNotContain("dormant", ids);
        Assert.Equal(["dormant"], catalog.IdsOf(catalog.Evaluate(new UserFeatures { DaysSinceLastSession = 5 })));
    }

    [Fact]
    public void Evaluate_DefaultCatalog_MeasuresNanosecondsPerCallWithoutAllocating()
    {
        var catalog = SegmentCatalogLoader.LoadFile(DefaultCatalogPath());
        var features = new UserFeatures
        {
            EngagementScore = 23.4, Sessions7d = 3, Clicks7d = 6, AddToCarts7d = 1, Revenue30d = 50,
            DaysSinceLastSession = 0, Device = "mobile", Country = "DE",
        };
        const int iterations = 2_000_000;
        ulong sink = 0;
        for (var i = 0; i < 200_000; i++)
            sink ^= catalog.Evaluate(in features);

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            features.Events1d = i & 31;
            sink ^= catalog.Evaluate(in features);
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        var nanoseconds = elapsed.TotalNanoseconds / iterations;
        output.WriteLine($"SegmentCatalog.Evaluate ({catalog.Segments.Count} segments): {nanoseconds:F1} ns/call, {allocated} B allocated over {iterations} calls (sink {sink})");
        Assert.Equal(0, allocated);
    }
}
