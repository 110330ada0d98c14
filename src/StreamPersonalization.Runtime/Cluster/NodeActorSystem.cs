using Akka.Actor;
using Akka.Configuration;

namespace StreamPersonalization.Runtime.Cluster;

/// <summary>
/// Creates a node's ActorSystem and makes it join the cluster: through the seed nodes of its configuration, through
/// Akka.Discovery when <c>sp.discovery.enabled</c> (<see cref="DiscoveryJoin"/>: config endpoints or the Kubernetes
/// API), or, with neither, by joining itself (a one-node cluster: development and the embedded demo).
/// </summary>
public static class NodeActorSystem
{
    /// <summary>How the node finds its cluster, as decided from the configuration.</summary>
    public enum JoinMethod { SeedNodes, Discovery, Self }

    public static JoinMethod MethodOf(Config config) =>
        config.GetBoolean("sp.discovery.enabled", false) ? JoinMethod.Discovery
        : config.GetStringList("akka.cluster.seed-nodes").Count > 0 ? JoinMethod.SeedNodes
        : JoinMethod.Self;

    /// <summary>Starts the ActorSystem named <paramref name="systemName"/> with <paramref name="config"/> (validated by
    /// <see cref="Hocon.AkkaConfigLoader"/>) and starts joining; it returns before the node is Up.</summary>
    public static Task<ActorSystem> StartAsync(string systemName, Config config)
    {
        var method = MethodOf(config);
        var system = ActorSystem.Create(systemName, method == JoinMethod.Discovery ? DiscoveryJoin.DiscoveryConfig(config).WithFallback(config) : config);
        var cluster = Akka.Cluster.Cluster.Get(system);
        switch (method)
        {
            case JoinMethod.Discovery:
                _ = DiscoveryJoin.RunAsync(system, config);   // keeps looking up until it has joined or the system stops
                break;
            case JoinMethod.Self:
                cluster.Join(cluster.SelfAddress);
                break;
            case JoinMethod.SeedNodes:
                break;   // the cluster extension joins the configured seed nodes by itself
        }
        return Task.FromResult(system);
    }
}
