using System.Text;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Tests.Experiments;

/// <summary>The user shard attributes with the catalog in force at each event (admin definitions arrive while running).</summary>
public sealed class AttributionCatalogTests
{
    private static readonly SegmentCatalog Segments = SegmentCatalogLoader.Parse("""
        version: 1
        segments:
          - id: any
            rule: "total_events >= 1"
        """, "test");

    private static ExperimentCatalog Catalog(params string[] ids) => ExperimentCatalogLoader.Parse("version: 1\nexperiments:\n" + string.Concat(ids.Select(id => $"""
          - id: {id}
            kind: fixed
            status: running
            variants: [ {"{"} id: a, weight: 1 {"}"}, {"{"} id: b, weight: 1 {"}"} ]
            primary_metric: {"{"} name: conversion, kind: binary {"}"}
            fallback_variant: a

        """)), "test");

    [Fact]
    public void Apply_ExperimentAddedWhileRunning_IsAttributedFromThenOn()
    {
        var current = Catalog("old");
        var shard = new UserShard(0, new ShardOptions(), Segments, new ListShardOutput(), experiments: current, currentExperiments: () => current);
        var t = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        long offset = 0;
        void Exposure(string user, string experiment, long ts) => shard.Process(new Core.Shards.InputRecord("c", 0, offset++, Encoding.UTF8.GetBytes(user),
            Encoding.UTF8.GetBytes($$"""{"event_id":"e{{offset}}","user_id":"{{user}}","type":"exposure","ts":{{ts}},"experiment_id":"{{experiment}}","variant":"b"}"""), ts));

        Exposure("u1", "new", t);          // not in the catalog yet: ignored
        current = Catalog("old", "new");   // an admin definition arrives
        Exposure("u2", "new", t + 1);
        Exposure("u3", "old", t + 2);
        var deltas = shard.ExperimentDeltas!.Take(0, offset).ToDictionary(d => d.ExperimentId);
        Assert.Equal(1, deltas["new"].Arms.Single().Users);
        Assert.Equal(1, deltas["old"].Arms.Single().Users);
    }
}
