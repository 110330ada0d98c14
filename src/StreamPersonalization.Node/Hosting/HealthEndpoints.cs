using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Node.Metrics;
using StreamPersonalization.Runtime.Partitions;

namespace StreamPersonalization.Node.Hosting;

/// <summary>
/// <c>/healthz</c> (liveness: no partition is stuck) and <c>/readyz</c> (readiness: an Up member of the Akka cluster,
/// joined the group and every owned partition has loaded and runs) on the node's HTTP listener (<c>Http:Urls</c>, default http://127.0.0.1:8080).
/// A stuck partition is one with queued records and no round answered for <see cref="StuckAfter"/>. Unless
/// <c>Http:Metrics</c> is false, <c>/metrics</c> serves the node's metrics in the Prometheus text format (<see cref="MetricsEndpoint"/>).
/// </summary>
public static class HealthEndpoints
{
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Starts the node's HTTP listener with health routes and, when <paramref name="experiments"/> is given, the
    /// assignment, experiment and admin routes; when <paramref name="cohorts"/> is given, <c>GET /v1/cohorts</c>.
    /// </summary>
    /// <param name="runtime">The node's Akka runtime: readiness needs it Up, and it serves <c>/v1/admin/cluster</c> (null: no cluster, tests).</param>
    public static async Task<WebApplication> StartAsync(StreamNode node, HttpOptions http, Http.ExperimentServices? experiments, ILoggerFactory loggers, CancellationToken ct,
        Core.Privacy.Cohorts.ICohortReleaseStore? cohorts = null, Runtime.NodeRuntime? runtime = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(http.Urls);
        if (http.Metrics) builder.Services.AddNodeMetrics(node, loggers);
        var app = builder.Build();
        app.MapGet("/healthz", () => Respond(node, runtime, live: true));
        app.MapGet("/readyz", () => Respond(node, runtime, live: false));
        if (runtime is not null) Http.ClusterEndpoints.Map(app, runtime.Admin, http.ResolveAdminToken());
        if (http.Metrics) MetricsEndpoint.Map(app);
        if (experiments is { Users: { } users })
            experiments = experiments with { Users = users with { Live = node } };   // explanations ask the user's actor first
        if (experiments is not null)
        {
            Http.AssignmentEndpoints.Map(app, experiments, http);
            Http.AdminEndpoints.Map(app, experiments);
            Http.UserEndpoints.Map(app, experiments);
        }
        if (cohorts is not null) Http.CohortEndpoints.Map(app, cohorts);
        await app.StartAsync(ct);
        loggers.CreateLogger("sp.http").LogInformation("HTTP on {Urls}: /healthz, /readyz{Metrics}{Api}", http.Urls, http.Metrics ? ", /metrics" : "",
            experiments is null ? "" : experiments.AdminToken is null ? ", /v1 (admin API disabled: no token)" : ", /v1, /v1/admin");
        return app;
    }

    private static IResult Respond(StreamNode node, Runtime.NodeRuntime? runtime, bool live)
    {
        var shards = node.Shards.OrderBy(s => s.Partition).Select(s => new
        {
            partition = s.Partition,
            state = s.State.ToString().ToLowerInvariant(),
            next_offset = s.NextOffset,
            queued = s.Queued,
            stuck = IsStuck(s),
            failure = s.Failure?.Message,
        }).ToList();
        var clusterUp = runtime?.SelfUp ?? true;
        var ready = node.Ready && clusterUp;   // read once: the status code and the body agree
        var ok = live ? shards.All(s => !s.stuck) : ready;
        var body = new { status = ok ? "ok" : live ? "stuck" : "not_ready", ready, cluster_member_up = clusterUp, failed_shards = node.FailedShards, shards };
        return Results.Json(body, statusCode: ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static bool IsStuck(PartitionStatus s) =>
        s.State == PartitionState.Running && s.Queued > 0 && TimeProvider.System.GetElapsedTime(s.LastProgressTicks) > StuckAfter;
}
