using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StreamPersonalization.Node.Metrics;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format: the node's own gauges (<see cref="NodeMetrics"/>) and every
/// <c>StreamPersonalization*</c> meter of the process (e.g. <see cref="Runtime.Partitions.PartitionMetrics"/>). The meter and the
/// collector live as long as the web application: they are disposed with it.
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>Registers the node's meter and collector; call before <c>Build()</c>, then <see cref="Map"/>.</summary>
    public static void AddNodeMetrics(this IServiceCollection services, StreamNode node, ILoggerFactory loggers)
    {
        // The shard fault instruments exist from the first fault on; create them now so /metrics lists them from the start.
        RuntimeHelpers.RunClassConstructor(typeof(Runtime.Partitions.PartitionMetrics).TypeHandle);
        // Factory registrations: the container disposes what it created when the application is disposed.
        services.AddSingleton(_ => new NodeMetrics(node));
        services.AddSingleton(sp =>
        {
            var log = loggers.CreateLogger("sp.metrics");
            return new MetricsCollector(scope: sp.GetRequiredService<NodeMetrics>().Scope,
                observationFailed: ex => log.LogWarning(ex, "A metric could not be read for /metrics"));
        });
    }

    /// <summary>Starts collecting at once (counters count from here) and maps <c>GET /metrics</c>.</summary>
    public static void Map(WebApplication app)
    {
        var collector = app.Services.GetRequiredService<MetricsCollector>();
        app.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(collector.Collect()), PrometheusTextWriter.ContentType));
    }
}
