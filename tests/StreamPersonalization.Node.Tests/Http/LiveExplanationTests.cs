using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Experiments;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests.Http;

/// <summary>
/// <c>GET /v1/users/{id}/explanation</c> on a running node asks the user's actor through the region: it answers for a
/// user whose state no checkpoint holds yet, and, once the node has drained, the checkpoint gives the same answer.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class LiveExplanationTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-live-").FullName;

    [Fact]
    public async Task Explanation_BeforeAnyCheckpoint_ComesFromTheActor_AndEqualsTheCheckpointAfterTheDrain()
    {
        var scenario = new PipelineScenario(kafka, "live", seed: 21, count: 3_000, users: 40);
        var run = scenario.KafkaFor("live");
        await using var bed = await AssignmentTestBed.OpenAsync(Path.Combine(_dir, "live.db"));
        // No checkpoint while it runs: every user's state lives only in its actor until the drain.
        var node = new StreamNode(new NodeOptions { NodeId = "live", GroupId = "live-users", CheckpointInterval = TimeSpan.FromMinutes(5), CheckpointMaxRecords = 10_000_000 },
            run, PipelineScenario.ShardOptions, PipelineScenario.Catalog, bed.Store, new KafkaClientFactory(run), NullLoggerFactory.Instance);
        var users = new UserServices(bed.Store, PipelineScenario.Catalog, new Core.Engagement.HalfLifeDecay(PipelineScenario.ShardOptions.Engagement.HalfLife),
            new Storage.Sqlite.SqliteAssignmentStore(new() { Path = bed.Path }), _ => false, (_, _) => Task.CompletedTask);
        await using var app = await HealthEndpoints.StartAsync(node, new HttpOptions { Urls = "http://127.0.0.1:0" },
            new ExperimentServices(bed.Catalog, bed.Service, bed.Board, bed.Definitions, null, users), NullLoggerFactory.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        using var stop = new CancellationTokenSource();
        var running = node.RunAsync(stop.Token);

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (node.Shards.Count < PipelineScenario.Partitions || node.Shards.Sum(s => s.NextOffset) < scenario.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the node should take every record into a round: {string.Join(", ", node.Shards)}");
            if (running.IsCompleted) await running;
            await Task.Delay(50);
        }
        // The busiest user of the log (its key is the raw id: the scenario does not pseudonymise).
        var user = TopicReader.ReadAll(kafka.Bootstrap, scenario.Input, PipelineScenario.Partitions)
            .Where(r => r.Message.Key is { Length: > 0 }).GroupBy(r => Encoding.UTF8.GetString(r.Message.Key)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        Assert.Null(await bed.Store.FindEntityAsync(StreamNode.Scope, user));   // nothing checkpointed yet

        var live = await Explain(http, user);
        Assert.Equal("actor", live.GetProperty("from").GetString());
        Assert.True(live.GetProperty("known").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, live.GetProperty("as_of").ValueKind);

        stop.Cancel();
        await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(node.HadFailures);
        Assert.NotNull(await bed.Store.FindEntityAsync(StreamNode.Scope, user));   // the drain checkpointed it
        var stored = await Explain(http, user);
        Assert.Equal("checkpoint", stored.GetProperty("from").GetString());
        Assert.Equal(Without(live, "from"), Without(stored, "from"));
        Assert.Equal("checkpoint", (await Explain(http, "never-seen-user")).GetProperty("from").GetString());
    }

    private static async Task<JsonElement> Explain(HttpClient http, string user) =>
        JsonDocument.Parse(await http.GetStringAsync($"/v1/users/{Uri.EscapeDataString(user)}/explanation")).RootElement.Clone();

    private static string Without(JsonElement body, string property) =>
        JsonSerializer.Serialize(body.EnumerateObject().Where(p => p.Name != property).ToDictionary(p => p.Name, p => p.Value));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
