using Microsoft.Extensions.Logging;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Runtime;
using StreamPersonalization.Runtime.Cluster;

namespace StreamPersonalization.Cli.Commands;

/// <summary>Starts the node's Akka runtime for <c>run</c> and <c>demo</c>; it reports the user stage's partitions and
/// entities to the cluster view.</summary>
internal static class NodeRuntimeWiring
{
    public static async Task<NodeRuntime> StartAsync(NodeSettings settings, Akka.Configuration.Config akkaConfig, StreamNode node, ILogger log)
    {
        var runtime = await NodeRuntime.StartAsync(settings.Akka.SystemName, akkaConfig, settings.Node.NodeId, () =>
        {
            var shards = node.Shards;
            return new LocalNodeState(node.Ready, shards.Select(s => s.Partition).Order().ToArray(), shards.Sum(s => (long)s.Shard.ResidentEntities));
        }, change => log.LogInformation("{ClusterChange}", change));
        log.LogInformation("Akka node {Address} started ({Method}); seeds [{Seeds}]", runtime.Address, NodeActorSystem.MethodOf(akkaConfig),
            string.Join(", ", akkaConfig.GetStringList("akka.cluster.seed-nodes")));
        return runtime;
    }
}
