using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests.Experiments;

/// <summary>
/// Users with known true conversion rates per variant: the assignment service picks their variant, they emit an
/// exposure and (with the variant's true probability) a conversion into the clickstream, the user stage attributes
/// them, the experiment stage publishes snapshots, and every node's state reader feeds them back to assignment.
/// The snapshots must converge to the true rates, and a bandit must move its traffic to the best arm.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class ExperimentConvergenceTests(KafkaFixture kafka) : IAsyncLifetime
{
    private const string CatalogYaml = """
        version: 1
        experiments:
          - id: conv-fixed
            kind: fixed
            status: running
            variants: [ { id: control, weight: 1 }, { id: treatment, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: control
          - id: conv-bandit
            kind: bandit
            status: running
            variants: [ { id: low, weight: 1 }, { id: mid, weight: 1 }, { id: high, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: low
        """;

    private static readonly Dictionary<string, double> TrueRates = new()
    {
        ["control"] = 0.10, ["treatment"] = 0.15, ["low"] = 0.03, ["mid"] = 0.06, ["high"] = 0.12,
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("sp-converge-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private readonly Random _rng = new(20261122);
    private DateTimeOffset _clock = DateTimeOffset.UtcNow.AddHours(-3);
    private AssignmentTestBed _bed = null!;
    private KafkaOptions _run = null!;
    private IProducer<byte[], byte[]> _producer = null!;

    public async Task InitializeAsync()
    {
        var catalog = ExperimentCatalogLoader.Parse(CatalogYaml, "convergence");
        var name = $"conv-{Guid.NewGuid():N}"[..13];
        _run = new KafkaOptions
        {
            BootstrapServers = kafka.Bootstrap, ClickstreamTopic = $"clicks-{name}", SessionsTopic = $"sessions-{name}", SegmentChangesTopic = $"segments-{name}",
            DeadLetterTopic = $"dlq-{name}", ExperimentStatsTopic = $"xstats-{name}", ExperimentStateTopic = $"xstate-{name}", AlertsTopic = $"alerts-{name}",
            SessionTimeout = TimeSpan.FromSeconds(6),
        };
        foreach (var t in new[] { _run.ClickstreamTopic, _run.SessionsTopic, _run.SegmentChangesTopic, _run.DeadLetterTopic, _run.ExperimentStatsTopic, _run.ExperimentStateTopic, _run.AlertsTopic })
            kafka.Cluster.CreateTopic(t, PipelineScenario.Partitions);
        _bed = await AssignmentTestBed.OpenAsync(Path.Combine(_dir, "converge.db"), catalog);
        var node = new StreamNode(new NodeOptions { NodeId = name, GroupId = $"{name}-users", CheckpointInterval = TimeSpan.FromMilliseconds(200) },
            _run, PipelineScenario.ShardOptions, PipelineScenario.Catalog, _bed.Store, new KafkaClientFactory(_run), NullLoggerFactory.Instance, experiments: catalog);
        var stage = new ExperimentStage(new NodeOptions { NodeId = name, GroupId = $"{name}-users", ExperimentsGroupId = $"{name}-exp" },
            new ExperimentOptions { SnapshotInterval = TimeSpan.FromMilliseconds(200) }, _run, _bed.Catalog, _bed.Store, new KafkaClientFactory(_run), NullLoggerFactory.Instance);
        var reader = new ExperimentStateReader(new NodeOptions { NodeId = name }, _run, _bed.Board, new KafkaClientFactory(_run), NullLogger<ExperimentStateReader>.Instance);
        _running.AddRange([node.RunAsync(_stop.Token), stage.RunAsync(_stop.Token), reader.RunAsync(_stop.Token)]);
        _producer = SyntheticProducer.CreateBulkProducer(kafka.Bootstrap);
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_running);
        _producer.Dispose();
        await _bed.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task FixedSplit_SnapshotConvergesToTheTrueRates()
    {
        var users = Enumerable.Range(0, 6000).Select(i => $"fx-{i:D5}").ToList();
        var answers = await _bed.Service.AssignAsync("conv-fixed", users, CancellationToken.None);
        var truth = Simulate("conv-fixed", answers!);
        var snapshot = await AwaitSnapshotAsync("conv-fixed", users.Count);
        var arms = snapshot.GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("variantId").GetString()!);
        foreach (var (variant, (n, conversions)) in truth)
        {
            // Counts are exact (every exposure and conversion attributed once); rates within 4 standard errors of the truth.
            Assert.Equal(n, arms[variant].GetProperty("users").GetInt64());
            Assert.Equal(conversions, arms[variant].GetProperty("conversions").GetInt64());
            var rate = arms[variant].GetProperty("conversionRate").GetProperty("value").GetDouble();
            var p = TrueRates[variant];
            Assert.InRange(rate, p - 4 * Math.Sqrt(p * (1 - p) / n), p + 4 * Math.Sqrt(p * (1 - p) / n));
        }
        // A true lift of 5 points on ~3,000 users per arm is detected (z ≈ 5.9 expected).
        var test = snapshot.GetProperty("tests").EnumerateArray().Single();
        Assert.True(test.GetProperty("pValue").GetDouble() < 1e-3, test.ToString());
        Assert.InRange(test.GetProperty("difference").GetProperty("value").GetDouble(), 0.05 - 0.035, 0.05 + 0.035);
    }

    [Fact]
    public async Task Bandit_MovesTrafficToTheBestArmThroughPublishedAllocations()
    {
        var assigned = new Dictionary<string, int> { ["low"] = 0, ["mid"] = 0, ["high"] = 0 };
        var total = 0;
        JsonElement snapshot = default;
        for (var round = 0; round < 8; round++)
        {
            var users = Enumerable.Range(0, 600).Select(i => $"b{round}-{i:D4}").ToList();
            var answers = await _bed.Service.AssignAsync("conv-bandit", users, CancellationToken.None);
            foreach (var a in answers!) assigned[a.Variant]++;
            Simulate("conv-bandit", answers);
            total += users.Count;
            snapshot = await AwaitSnapshotAsync("conv-bandit", total);
        }
        var allocation = snapshot.GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("variantId").GetString()!, a => a.GetProperty("allocation").GetDouble());
        // Rates 3 %, 6 %, 12 %: after 4,800 users the posterior puts the best arm far ahead, and so did the traffic.
        Assert.True(allocation["high"] > 0.8, $"allocation {string.Join(", ", allocation)}");
        Assert.True(assigned["high"] > assigned["mid"] && assigned["high"] > assigned["low"], $"assigned {string.Join(", ", assigned)}");
        Assert.True(assigned["high"] > total / 2, $"assigned {string.Join(", ", assigned)}");
    }

    [Fact]
    public async Task OffSplitServing_RaisesOneSampleRatioMismatchAlert()
    {
        // Served 55/45 on a 50/50 experiment (a broken client, say): χ² = 40 on 4,000 users, p ≈ 2.5e-10 < 0.0005.
        var served = Enumerable.Range(0, 4000).Select(i => new AssignmentAnswer("conv-fixed", $"srm-{i:D4}", i % 20 < 11 ? "control" : "treatment", "assigned", false, 1)).ToList();
        Simulate("conv-fixed", served);
        var snapshot = await AwaitSnapshotAsync("conv-fixed", served.Count);
        Assert.True(snapshot.GetProperty("srm").GetProperty("fired").GetBoolean(), snapshot.GetProperty("srm").ToString());
        Assert.Contains(snapshot.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("code").GetString() == "srm");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<JsonElement> alerts;
        while ((alerts = TopicReader.ReadAll(kafka.Bootstrap, _run.AlertsTopic, PipelineScenario.Partitions)
                   .Select(r => JsonDocument.Parse(r.Message.Value).RootElement.Clone()).ToList()).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no alert published");
            await Task.Delay(200);
        }
        await Task.Delay(1000);   // several more snapshot rounds: the raised alert must not be repeated
        alerts = TopicReader.ReadAll(kafka.Bootstrap, _run.AlertsTopic, PipelineScenario.Partitions).Select(r => JsonDocument.Parse(r.Message.Value).RootElement.Clone()).ToList();
        var srm = Assert.Single(alerts);
        Assert.Equal("srm", srm.GetProperty("detector").GetString());
        Assert.Equal("raised", srm.GetProperty("state").GetString());
        Assert.Equal("critical", srm.GetProperty("severity").GetString());
        Assert.True(srm.GetProperty("evidence").EnumerateObject().Any(), srm.ToString());
    }

    /// <summary>Produces an exposure for every assigned user and a conversion with the variant's true probability; returns (users, conversions) per variant.</summary>
    private Dictionary<string, (long Users, long Conversions)> Simulate(string experiment, IReadOnlyList<AssignmentAnswer> answers)
    {
        var truth = new Dictionary<string, (long, long)>();
        foreach (var a in answers)
        {
            Assert.Equal("assigned", a.Reason);
            _clock = _clock.AddMilliseconds(50);
            Produce(a.UserKey, Event(a.UserKey, "exposure", _clock, experiment, a.Variant));
            var converted = _rng.NextDouble() < TrueRates[a.Variant];
            if (converted) Produce(a.UserKey, Event(a.UserKey, "conversion", _clock.AddSeconds(1), experiment, null));
            var (n, c) = truth.GetValueOrDefault(a.Variant);
            truth[a.Variant] = (n + 1, c + (converted ? 1 : 0));
        }
        _producer.Flush(TimeSpan.FromSeconds(30));
        return truth;
    }

    private void Produce(string user, string json) =>
        _producer.Produce(_run.ClickstreamTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(user), Value = Encoding.UTF8.GetBytes(json) });

    private static string Event(string user, string type, DateTimeOffset ts, string experiment, string? variant) =>
        $$"""{"event_id":"{{user}}-{{type}}","user_id":"{{user}}","type":"{{type}}","ts":"{{ts.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}","device":"desktop","country":"DE","experiment_id":"{{experiment}}","variant":{{(variant is null ? "null" : $"\"{variant}\"")}}}""";

    /// <summary>Waits until the node's state reader holds a snapshot counting <paramref name="users"/> users.</summary>
    private async Task<JsonElement> AwaitSnapshotAsync(string experiment, long users)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (_running.FirstOrDefault(t => t.IsCompleted) is { } done) await done;   // surfaces a crashed stage
            if (_bed.Board.Latest(experiment) is { } s)
            {
                var root = JsonDocument.Parse(s.Json).RootElement.Clone();
                var counted = root.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("users").GetInt64());
                if (counted == users) return root;
                Assert.True(counted < users, $"snapshot counts {counted} users, more than the {users} exposed");
            }
            Assert.True(DateTime.UtcNow < deadline, $"no snapshot of {experiment} with {users} users; latest: {_bed.Board.Latest(experiment)}");
            await Task.Delay(100);
        }
    }
}
