using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests.Experiments;

/// <summary>
/// Sticky assignment across two node processes sharing PostgreSQL, a definition change and a SIGKILL + restart.
/// The experiment's weights change after the first users are assigned, so the hash split alone would move about
/// half of the control users: only the durable store keeps their answers.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class StickyAssignmentProcessTests(KafkaFixture kafka) : IDisposable
{
    private const string Token = "process-test-admin-token-42";
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-sticky-").FullName;
    private readonly string _name = "sticky" + Guid.NewGuid().ToString("N")[..6];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private NodeProcess StartNode(string id, int port, string postgres) => NodeProcess.Start([
        "run", "--bootstrap", kafka.Bootstrap, "--node-id", id, "--data-dir", Path.Combine(_dir, id), "--urls", $"http://127.0.0.1:{port}",
        "--store", "postgres", "--postgres", postgres,
        "--set", $"Kafka:ClickstreamTopic={_name}-in", "--set", $"Kafka:SessionsTopic={_name}-s", "--set", $"Kafka:SegmentChangesTopic={_name}-c",
        "--set", $"Kafka:DeadLetterTopic={_name}-d", "--set", $"Kafka:ExperimentStatsTopic={_name}-x", "--set", $"Kafka:ExperimentStateTopic={_name}-y", "--set", $"Kafka:AlertsTopic={_name}-a",
        "--set", $"Node:GroupId={_name}-users", "--set", $"Node:ExperimentsGroupId={_name}-experiments",
        "--set", $"Http:AdminToken={Token}", "--set", "Experiments:DefinitionRefreshInterval=00:00:00.200",
    ]);

    private static string Definition(int version, int controlWeight, int treatmentWeight) => $$"""
        {"id": "sticky-test", "kind": "fixed", "status": "running", "version": {{version}},
         "variants": [{"id": "control", "weight": {{controlWeight}}}, {"id": "treatment", "weight": {{treatmentWeight}}}],
         "primary_metric": {"name": "conversion", "kind": "binary"}, "fallback_variant": "control"}
        """;

    [Fact]
    public async Task Assignments_StayStickyAcrossNodesDefinitionChangesAndRestarts()
    {
        foreach (var t in new[] { "in", "s", "c", "d", "x", "y", "a" }) kafka.Cluster.CreateTopic($"{_name}-{t}", 2);
        await using var pg = await TestPostgres.CreateAsync();
        var (portA, portB) = (19_000 + Random.Shared.Next(500), 19_500 + Random.Shared.Next(500));
        var a = StartNode("node-a", portA, pg.ConnectionString);
        using var b = StartNode("node-b", portB, pg.ConnectionString);
        try
        {
            using var httpA = await ClientAsync(portA, a);
            using var httpB = await ClientAsync(portB, b);
            Assert.True((await httpA.PutAsync("/v1/admin/experiments/sticky-test", Json(Definition(1, 1, 1)))).IsSuccessStatusCode);
            await UntilAsync(async () => (await httpB.GetAsync("/v1/assignments/sticky-test?user=probe")).IsSuccessStatusCode, b);

            var users = Enumerable.Range(0, 300).Select(i => $"person-{i}").ToArray();
            var first = await AssignAsync(httpA, users);
            Assert.InRange(first.Values.Count(v => v == "control"), 100, 200);

            // Node B changes the split to 1:99; node A must pick it up, and new users now land almost only in treatment.
            Assert.True((await httpB.PutAsync("/v1/admin/experiments/sticky-test", Json(Definition(2, 1, 99)))).IsSuccessStatusCode);
            // Each probe is a new user: a probe answered under version 1 would stay sticky at version 1.
            var probes = 0;
            await UntilAsync(async () => (await GetAsync(httpA, $"/v1/assignments/sticky-test?user=probe-v2-{probes++}")).GetProperty("definition_version").GetInt32() == 2, a);
            var newcomers = await AssignAsync(httpA, Enumerable.Range(0, 200).Select(i => $"newcomer-{i}").ToArray());
            Assert.True(newcomers.Values.Count(v => v == "treatment") >= 190, string.Join(",", newcomers.Values));

            Assert.Equal(first, await AssignAsync(httpB, users));
            a.Kill();
            a.Dispose();
            a = StartNode("node-a", portA, pg.ConnectionString);
            using var restarted = await ClientAsync(portA, a);
            Assert.Equal(first, await AssignAsync(restarted, users));
            Assert.True(b.Terminate(TimeSpan.FromSeconds(60)), b.Log);
        }
        finally
        {
            a.Dispose();
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> GetAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await (await http.GetAsync(path)).Content.ReadAsStringAsync()).RootElement.Clone();

    private static async Task<Dictionary<string, string>> AssignAsync(HttpClient http, string[] users)
    {
        var response = await http.PostAsJsonAsync("/v1/assignments/sticky-test", new { users });
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("assignments").EnumerateArray().ToDictionary(x => x.GetProperty("user").GetString()!, x => x.GetProperty("variant").GetString()!);
    }

    private static async Task<HttpClient> ClientAsync(int port, NodeProcess node)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await UntilAsync(async () =>
        {
            try { return (await http.GetAsync("/healthz")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, node);
        return http;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.False(node.HasExited, node.Log);
            Assert.True(DateTime.UtcNow < deadline, $"condition not met in time:\n{node.Log}");
            await Task.Delay(100);
        }
    }
}
