using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests.Experiments;

/// <summary>The /v1 routes over real Kestrel on a loopback port, backed by a SQLite test bed.</summary>
public sealed class ApiEndpointsTests : IAsyncLifetime
{
    private const string Token = "test-admin-token-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-api-").FullName;
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<string> _erasureRequests = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_disposables)) await d.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(HttpClient Client, AssignmentTestBed Bed)> StartAsync(string? adminToken = Token)
    {
        var bed = await AssignmentTestBed.OpenAsync(Path.Combine(_dir, "api.db"));
        _disposables.Add(bed);
        var node = new StreamNode(new NodeOptions { NodeId = "api-test" }, new KafkaOptions(), PipelineScenario.ShardOptions, PipelineScenario.Catalog,
            bed.Store, new KafkaClientFactory(new KafkaOptions()), NullLoggerFactory.Instance);
        var users = new UserServices(bed.Store, PipelineScenario.Catalog, new Core.Engagement.HalfLifeDecay(TimeSpan.FromDays(7)),
            new Storage.Sqlite.SqliteAssignmentStore(new() { Path = bed.Path }), c => c == AssignmentTestBed.DisabledMarket,
            (id, _) => { lock (_erasureRequests) _erasureRequests.Add(id); return Task.CompletedTask; });
        var services = new ExperimentServices(bed.Catalog, bed.Service, bed.Board, bed.Definitions, adminToken, users);
        var app = await HealthEndpoints.StartAsync(node, new HttpOptions { Urls = "http://127.0.0.1:0", MaxBatchUsers = 50 }, services, NullLoggerFactory.Instance, CancellationToken.None);
        _disposables.Add(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (new HttpClient { BaseAddress = new Uri(address) }, bed);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task Assignments_AnswerSingleAndBatchRequestsAndRejectBadOnes()
    {
        var (http, _) = await StartAsync();
        var one = await http.GetAsync("/v1/assignments/split?user=alice");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var body = await Json(one);
        Assert.Equal("alice", body.GetProperty("user").GetString());
        Assert.Equal(Core.Experiments.Assignment.SplitAssigner.Assign(AssignmentTestBed.FileCatalog["split"], "alice"), body.GetProperty("variant").GetString());
        Assert.Equal("assigned", body.GetProperty("reason").GetString());
        Assert.False(body.GetProperty("sticky").GetBoolean());
        Assert.True((await Json(await http.GetAsync("/v1/assignments/split?user=alice"))).GetProperty("sticky").GetBoolean());

        var batch = await http.PostAsJsonAsync("/v1/assignments/split", new { users = new[] { "alice", "bob", "carol" } });
        var assignments = (await Json(batch)).GetProperty("assignments").EnumerateArray().ToList();
        Assert.Equal(["alice", "bob", "carol"], assignments.Select(a => a.GetProperty("user").GetString()));
        Assert.Equal(body.GetProperty("variant").GetString(), assignments[0].GetProperty("variant").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/v1/assignments/split")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/v1/assignments/split?user={new string('x', 300)}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/assignments/nope?user=a")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/v1/assignments/split", new StringContent("{not json", Encoding.UTF8, "application/json"))).StatusCode);
        var tooMany = await http.PostAsJsonAsync("/v1/assignments/split", new { users = Enumerable.Range(0, 51).Select(i => $"u{i}") });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("Http:MaxBatchUsers", (await Json(tooMany)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Experiment_ReturnsDefinitionAndLatestSnapshot()
    {
        var (http, bed) = await StartAsync();
        var unpublished = await Json(await http.GetAsync("/v1/experiments/split"));
        Assert.Equal("split", unpublished.GetProperty("experiment").GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, unpublished.GetProperty("snapshot").ValueKind);

        var shape = ExperimentShape.From(AssignmentTestBed.FileCatalog["split"]);
        var state = ExperimentState.For(shape);
        state.Apply(new ExperimentDelta("split", 0, 0, 10, [new ArmDelta("control", 120, 12, 0, 0, 0, 0, 0), new ArmDelta("treatment", 118, 20, 0, 0, 0, 0, 0)]));
        bed.Board.Offer(PublishedSnapshot.Parse(SnapshotJson.ToUtf8(SnapshotCalculator.Compute(state, shape, seed: 7))));
        var published = await Json(await http.GetAsync("/v1/experiments/split"));
        var snapshot = published.GetProperty("snapshot");
        Assert.Equal(1, snapshot.GetProperty("version").GetInt64());
        Assert.Equal([120L, 118L], snapshot.GetProperty("arms").EnumerateArray().Select(a => a.GetProperty("users").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/experiments/nope")).StatusCode);
        var list = await Json(await http.GetAsync("/v1/experiments"));
        Assert.Contains(list.GetProperty("experiments").EnumerateArray(), e => e.GetProperty("id").GetString() == "split" && e.GetProperty("snapshot_version").GetInt64() == 1);
    }

    [Fact]
    public async Task Admin_RequiresTheTokenAndValidatesDefinitions()
    {
        var (http, bed) = await StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/admin/experiments")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-but-long-enough");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/admin/experiments")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var list = await Json(await http.GetAsync("/v1/admin/experiments"));
        Assert.Equal(5, list.GetProperty("experiments").GetArrayLength());

        var invalid = await http.PutAsync("/v1/admin/experiments/fresh", Body("""
            {"id": "fresh", "kind": "fixed", "status": "running", "variants": [{"id": "x", "weight": 1}, {"id": "y", "weight": 1}],
             "primary_metric": {"name": "conversion", "kind": "binary"}, "fallback_variant": "z"}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("fallback_variant", (await Json(invalid)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/assignments/fresh?user=u1")).StatusCode);

        var fresh = """
            {"id": "fresh", "kind": "fixed", "status": "running", "variants": [{"id": "x", "weight": 1}, {"id": "y", "weight": 3}],
             "primary_metric": {"name": "conversion", "kind": "binary"}, "fallback_variant": "x"}
            """;
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync("/v1/admin/experiments/fresh", Body(fresh))).StatusCode);
        var assigned = await Json(await http.GetAsync("/v1/assignments/fresh?user=u1"));
        Assert.Equal("assigned", assigned.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await http.PutAsync("/v1/admin/experiments/fresh", Body(fresh))).StatusCode);   // same version again
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsync("/v1/admin/experiments/other", Body(fresh))).StatusCode);  // id mismatch

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/admin/experiments/fresh/status?to=stopped", null)).StatusCode);
        var stopped = await Json(await http.GetAsync("/v1/assignments/fresh?user=u1"));
        Assert.Equal(("x", "experiment_not_running", 2), (stopped.GetProperty("variant").GetString(), stopped.GetProperty("reason").GetString(), stopped.GetProperty("definition_version").GetInt32()));
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/v1/admin/experiments/fresh/status?to=finished", null)).StatusCode);

        // Another node sharing the store picks the definitions up on its next refresh.
        await using var other = await AssignmentTestBed.OpenAsync(bed.Path);
        using var stop = new CancellationTokenSource();
        var refreshing = new DefinitionRefresher(other.Catalog, other.Definitions, new ExperimentOptions { DefinitionRefreshInterval = TimeSpan.FromMilliseconds(100) },
            NullLogger<DefinitionRefresher>.Instance).RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(other.Catalog.Current.TryGet("fresh", out var seen) && seen.Status == ExperimentStatus.Stopped)) { Assert.True(DateTime.UtcNow < deadline); await Task.Delay(50); }
        stop.Cancel();
        await refreshing;
    }

    [Fact]
    public async Task Admin_IsDisabledWithoutAToken()
    {
        var (http, _) = await StartAsync(adminToken: null);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/v1/admin/experiments")).StatusCode);
    }

    [Fact]
    public async Task Explanation_SaysWhichSegmentsAndExperimentsAndWhy()
    {
        var (http, bed) = await StartAsync();
        // A big spender on a phone in Germany, as the user stage would have stored it after two purchases.
        var shard = new Core.Shards.UserShard(3, PipelineScenario.ShardOptions, PipelineScenario.Catalog, new Core.Shards.ListShardOutput());
        var t = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        for (var i = 0; i < 2; i++)
            shard.ProcessEvent(new Core.Events.ClickEvent($"p{i}", "shopper", Core.Events.EventType.Purchase, "purchase", t + i * 60_000, Device: "mobile", Country: "DE", Value: 150));
        await bed.Store.CommitAsync(new Core.Checkpoints.CheckpointBatch("users", 3, null, 2, t, null, shard.TakeDirty()));
        var member = PipelineScenario.Catalog.IdsOf(shard.Peek("shopper")!.Membership);
        Assert.NotEmpty(member);
        await bed.AssignAsync("split", "shopper");

        var body = await Json(await http.GetAsync("/v1/users/shopper/explanation"));
        Assert.Equal(("on", true), (body.GetProperty("personalization").GetString(), body.GetProperty("known").GetBoolean()));
        var segments = body.GetProperty("segments").EnumerateArray().ToList();
        Assert.Equal(member.Order(), segments.Select(s => s.GetProperty("id").GetString()!).Order());
        foreach (var s in segments)
        {
            var definition = PipelineScenario.Catalog.Segments.Single(d => d.Id == s.GetProperty("id").GetString());
            Assert.Equal(definition.Rule.Source, s.GetProperty("rule").GetString());
            Assert.Contains("=", s.GetProperty("because").GetString());   // feature values substituted into the rule
        }
        var experiment = Assert.Single(body.GetProperty("experiments").EnumerateArray());
        Assert.Equal(("split", (await bed.AssignAsync("split", "shopper")).Variant), (experiment.GetProperty("id").GetString()!, experiment.GetProperty("assigned_variant").GetString()!));

        await bed.StoreUserAsync("quitter", "mobile", partition: 1, consentWithdrawn: true);
        var quitter = await Json(await http.GetAsync("/v1/users/quitter/explanation"));
        Assert.Equal(("off", "consent_withdrawn"), (quitter.GetProperty("personalization").GetString(), quitter.GetProperty("reason").GetString()));
        await bed.StoreUserAsync("parisian", "mobile", partition: 1, country: AssignmentTestBed.DisabledMarket);
        Assert.Equal("market_disabled", (await Json(await http.GetAsync("/v1/users/parisian/explanation"))).GetProperty("reason").GetString());
        Assert.False((await Json(await http.GetAsync("/v1/users/stranger/explanation"))).GetProperty("known").GetBoolean());
    }

    [Fact]
    public async Task AdminForget_ErasesAssignmentsAtOnceAndRequestsTheErasure()
    {
        var (http, bed) = await StartAsync();
        await bed.AssignAsync("split", "leaving");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/v1/admin/users/leaving/forget", null)).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("/v1/admin/users/leaving/forget", null)).StatusCode);
        Assert.Equal(["leaving"], _erasureRequests);
        Assert.Empty(await new Storage.Sqlite.SqliteAssignmentStore(new() { Path = bed.Path }).GetAsync("split", ["leaving"]));
        Assert.False((await bed.AssignAsync("split", "leaving")).Sticky);
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
