using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class CohortBandsTests
{
    private readonly CohortBands _bands = new(new CohortBandOptions());

    [Fact]
    public void All_IsTheFullCrossProduct_InIndexOrder()
    {
        Assert.Equal(4 * 4 * 4, _bands.Count);   // 3 engagement edges, 3 recency edges, 3 devices + other
        for (var i = 0; i < _bands.Count; i++) Assert.Equal(i, _bands.IndexOf(_bands.All[i]));
        Assert.Equal(_bands.Count, _bands.All.Select(_bands.Name).Distinct().Count());
    }

    [Theory]
    [InlineData(0, 0, "mobile", "eng=[-inf,5)|rec=[-inf,1)d|dev=mobile")]
    [InlineData(5, 1, "Desktop", "eng=[5,20)|rec=[1,7)d|dev=desktop")]       // an edge belongs to the band above it
    [InlineData(49.999, 6.9, "tablet", "eng=[20,50)|rec=[1,7)d|dev=tablet")]
    [InlineData(50, 30, "smart-tv", "eng=[50,inf)|rec=[30,inf)d|dev=other")]
    [InlineData(double.NaN, double.PositiveInfinity, null, "eng=[-inf,5)|rec=[30,inf)d|dev=other")]
    public void Classify_BandsAndDevices(double engagement, double recency, string? device, string expected) =>
        Assert.Equal(expected, _bands.Name(_bands.Classify(new CohortFeatures(engagement, recency, device))));

    [Fact]
    public void Validate_BadOptions_NameTheirKeys()
    {
        Assert.Contains("'Privacy:Cohorts:Bands:EngagementEdges'",
            Assert.Throws<ArgumentException>(() => new CohortBandOptions { EngagementEdges = [5, 5] }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:Bands:RecencyEdgesDays'",
            Assert.Throws<ArgumentException>(() => new CohortBandOptions { RecencyEdgesDays = [double.NaN] }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:Bands:DeviceTypes'",
            Assert.Throws<ArgumentException>(() => new CohortBandOptions { DeviceTypes = ["mobile", "MOBILE"] }.Validate()).Message);
        Assert.Contains("other", Assert.Throws<ArgumentException>(() => new CohortBandOptions { DeviceTypes = ["other"] }.Validate()).Message);
    }
}
