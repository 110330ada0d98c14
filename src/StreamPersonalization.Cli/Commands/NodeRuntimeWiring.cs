using Microsoft.Extensions.Logging;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Runtime;
using StreamPersonalization.Runtime.Cluster;

namespace StreamPersonalization.Cli.Commands;

/// <summary>Starts the node's Akka runtime for <c>run</c> and <c>demo</c>; it reports the user stage's partitions and
/// resident users to the cluster view (nothing before the node is created on it).</summary>
internal static class NodeRuntimeWiring
{
    public static async Task<NodeRuntime> StartAsync(NodeSettings settings, Akka.Configuration.Config akkaConfig, Func<StreamNode?> node, ILoggerFactory loggers, ILogger log)
    {
        akkaConfig = AkkaLoggerBridge.Configure(akkaConfig, loggers);   // Akka's own log lines in the node's log
        var runtime = await NodeRuntime.StartAsync(settings.Akka.SystemName, akkaConfig, settings.Node.NodeId, () =>
            node() is { } n ? new LocalNodeState(n.Ready, [.. n.Shards.Select(s => s.Partition).Order()], n.ResidentUsers) : new LocalNodeState(false, [], 0),
            change => log.LogInformation("{ClusterChange}", change));
        log.LogInformation("Akka node {Address} started ({Method}); seeds [{Seeds}]", runtime.Address, NodeActorSystem.MethodOf(akkaConfig),
            string.Join(", ", akkaConfig.GetStringList("akka.cluster.seed-nodes")));
        return runtime;
    }
}
