using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StreamPersonalization.Runtime.Cluster;

namespace StreamPersonalization.Node.Http;

/// <summary>
/// The Akka cluster for SREs (bearer token like every admin route):
/// <list type="bullet">
/// <item><c>GET /v1/admin/cluster</c>: members with status and reachability, the leader, and per member the Kafka
/// partitions (user shards) it owns and the user entities it holds, as each member reports them.</item>
/// <item><c>POST /v1/admin/cluster/leave?address=akka.tcp://sp@host:port</c>: that member leaves gracefully (it drains,
/// checkpoints, hands off its shards and stops). 404 when no member has the address.</item>
/// </list>
/// </summary>
public static class ClusterEndpoints
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    public static void Map(WebApplication app, ClusterAdmin cluster, string? adminToken)
    {
        var group = app.MapGroup("/v1/admin/cluster").AddEndpointFilter(async (context, next) =>
            AdminEndpoints.Authorized(context.HttpContext.Request, adminToken) is { } denied ? denied : await next(context));
        group.MapGet("", async (CancellationToken ct) => Results.Json(Render(await cluster.ViewAsync(AskTimeout, ct))));
        group.MapPost("/leave", (string? address) =>
        {
            if (string.IsNullOrWhiteSpace(address)) return AssignmentEndpoints.Error(400, "query parameter 'address' (akka.tcp://sp@host:port) is required");
            return cluster.Leave(address)
                ? Results.Json(new { status = "leaving", address }, statusCode: 202)
                : AssignmentEndpoints.Error(404, $"no cluster member has address '{address}'");
        });
    }

    internal static object Render(ClusterView view) => new
    {
        self = view.Self,
        self_status = view.SelfStatus,
        leader = view.Leader,
        members = view.Members.Select(m => new
        {
            address = m.Address,
            status = m.Status,
            reachable = m.Reachable,
            self = m.IsSelf,
            leader = m.IsLeader,
            roles = m.Roles,
            node = m.Node is { } n ? new { node_id = n.NodeId, ready = n.Ready, partitions = n.Partitions, resident_entities = n.ResidentEntities } : null,
        }),
    };
}
