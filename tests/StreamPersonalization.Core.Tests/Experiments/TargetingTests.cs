using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Core.Tests.Experiments;

public class TargetingTests
{
    private static readonly SegmentCatalog Segments = SegmentCatalogLoader.Parse("""
        version: 1
        segments:
          - id: active
            rule: "sessions_7d >= 2"
          - id: engaged
            rule: "engagement_score >= 20"
          - id: dormant
            rule: "days_since_last_session >= 3"
        """, "test.yaml");

    private const ulong Active = 1, Engaged = 2;

    [Fact]
    public void Matches_Everyone_MatchesWithoutData()
    {
        Assert.True(Targeting.Matches(TargetingRule.Everyone, 0, Segments, null, null));
    }

    [Theory]
    [InlineData(Active | Engaged, true)]
    [InlineData(Active, false)]
    [InlineData(Engaged, false)]
    [InlineData(0UL, false)]
    public void Matches_Segments_RequiresAll(ulong mask, bool expected)
    {
        var rule = new TargetingRule(["active", "engaged"], [], []);

        Assert.Equal(expected, Targeting.Matches(rule, mask, Segments, "DE", "mobile"));
    }

    [Fact]
    public void Matches_UnknownSegment_FailsClosed()
    {
        var rule = new TargetingRule(["vip"], [], []);

        Assert.False(Targeting.Matches(rule, ulong.MaxValue, Segments, "DE", "mobile"));
    }

    [Theory]
    [InlineData("DE", "mobile", true)]
    [InlineData("de", "MOBILE", true)]
    [InlineData("FR", "tablet", true)]
    [InlineData("US", "mobile", false)]
    [InlineData("DE", "desktop", false)]
    [InlineData(null, "mobile", false)]
    [InlineData("DE", null, false)]
    public void Matches_CountriesAndDevices_AnyOfEach(string? country, string? device, bool expected)
    {
        var rule = new TargetingRule([], ["DE", "FR"], ["mobile", "tablet"]);

        Assert.Equal(expected, Targeting.Matches(rule, 0, Segments, country, device));
    }
}
