using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests.Metrics;

/// <summary><c>/metrics</c> of a node that has not joined a group yet, over real Kestrel (the running node: <see cref="CliTests"/>).</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-metrics-").FullName;
    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_disposables)) await d.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<HttpClient> StartAsync(HttpOptions http)
    {
        var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, $"{Guid.NewGuid():N}.db") });
        _disposables.Add(store);
        var node = new StreamNode(new NodeOptions { NodeId = "metrics-test" }, new KafkaOptions(), PipelineScenario.ShardOptions, PipelineScenario.Catalog,
            store, new KafkaClientFactory(new KafkaOptions()), NullLoggerFactory.Instance);
        var app = await HealthEndpoints.StartAsync(node, http with { Urls = "http://127.0.0.1:0" }, null, NullLoggerFactory.Instance, CancellationToken.None);
        _disposables.Add(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HttpClient { BaseAddress = new Uri(address) };
    }

    [Fact]
    public async Task Metrics_NodeNotJoined_ServesPrometheusTextWithReadyZero()
    {
        using var http = await StartAsync(new HttpOptions());

        var response = await http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p is { Name: "version", Value: "0.0.4" });
        var lines = text.Split('\n');
        Assert.Contains("# TYPE sp_node_ready gauge", lines);
        Assert.Contains("sp_node_ready 0", lines);
        Assert.Contains("sp_node_failed_shards 0", lines);
        Assert.Contains("# TYPE sp_shard_dead_lettered_total counter", lines);
        Assert.Contains("# TYPE sp_shard_stalled gauge", lines);             // the shard fault meter, before any fault
        Assert.Contains("# TYPE sp_shard_poison_records_total counter", lines);
        Assert.Contains("# TYPE sp_shard_restarts_total counter", lines);
        Assert.Contains("# TYPE sp_shard_lost_rounds_total counter", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("sp_shard_next_offset{", StringComparison.Ordinal));   // no shards owned
    }

    [Fact]
    public async Task Metrics_HttpMetricsFalse_RouteIsAbsent()
    {
        using var http = await StartAsync(new HttpOptions { Metrics = false });

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
    }
}
