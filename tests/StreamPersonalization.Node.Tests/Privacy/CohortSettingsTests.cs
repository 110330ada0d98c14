using Microsoft.Extensions.Configuration;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Privacy;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Node.Tests.Privacy;

public sealed class CohortSettingsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Bind_ConfiguredBandListsReplaceTheDefaults_AndScalarsBind()
    {
        var o = CohortSettings.Bind(Config(
            ("Privacy:Cohorts:Bands:EngagementEdges:0", "1"), ("Privacy:Cohorts:Bands:EngagementEdges:1", "2"),
            ("Privacy:Cohorts:Bands:DeviceTypes:0", "tv"),
            ("Privacy:Cohorts:Mechanism", "Gaussian"), ("Privacy:Cohorts:Period", "7.00:00:00"), ("Privacy:Cohorts:BudgetPeriods", "4")));
        Assert.Equal([1.0, 2.0], o.Bands.EngagementEdges);        // not [5, 20, 50, 1, 2]
        Assert.Equal(["tv"], o.Bands.DeviceTypes);
        Assert.Equal([1.0, 7.0, 30.0], o.Bands.RecencyEdgesDays);  // unset: the default
        Assert.Equal(DpMechanism.Gaussian, o.Mechanism);
        Assert.Equal(7, o.PeriodDays);
        Assert.Equal(4, o.BudgetPeriods);
    }

    [Fact]
    public void NodeSettings_BindAndValidateTheCohortSection_NamingBadKeys()
    {
        Assert.Equal(TimeSpan.FromHours(2), NodeSettings.From(Config(("Privacy:Cohorts:ReleaseDelay", "02:00:00"))).Cohorts.ReleaseDelay);
        Assert.True(NodeSettings.From(Config()).Cohorts.Enabled);
        Assert.ThrowsAny<InvalidOperationException>(() => NodeSettings.From(Config(("Privacy:Cohorts:Perod", "1.00:00:00"))));
        var bad = NodeSettings.From(Config(("Privacy:Cohorts:Period", "12:00:00"), ("Segments:File", Path.Combine(RepoPaths.Root, "config", "segments.yaml"))));
        Assert.Contains("'Privacy:Cohorts:Period'", Assert.ThrowsAny<ArgumentException>(() => bad.Validate(embeddedKafka: true)).Message);
    }
}
