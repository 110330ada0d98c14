using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Hocon;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Runtime.Tests.Cluster;

/// <summary>Nodes for cluster tests: real ActorSystems with real remoting on 127.0.0.1, configured from the
/// repository's <c>hocon/</c> like a node.</summary>
internal static class TestNodes
{
    public static Config Config(IEnumerable<string>? seeds = null, string extra = "", int port = 0)
    {
        var overrides = new Dictionary<string, string> { ["akka.remote.dot-netty.tcp.port"] = port.ToString() };
        if (seeds?.ToList() is { Count: > 0 } list) overrides["akka.cluster.seed-nodes"] = string.Join(",", list);
        var loaded = AkkaConfigLoader.Load(new AkkaOptions { HoconDirectory = Path.Combine(RepoPaths.Root, "hocon") }, overrides, _ => null);
        return ConfigurationFactory.ParseString(extra).WithFallback(loaded);
    }

    public static async Task<ActorSystem> StartAsync(string nodeId, Config config, IReadOnlyList<int>? partitions = null)
    {
        var system = await NodeActorSystem.StartAsync("sp", config);
        system.ActorOf(NodeStatusActor.Props(nodeId, () => new LocalNodeState(true, partitions ?? [], 0)), NodeStatusActor.Name);
        return system;
    }

    public static string AddressOf(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();

    /// <summary>Waits until <paramref name="observer"/> sees exactly <paramref name="count"/> members, all Up.</summary>
    public static async Task UntilUpAsync(ActorSystem observer, int count, TimeSpan timeout)
    {
        var cluster = Akka.Cluster.Cluster.Get(observer);
        var deadline = DateTime.UtcNow + timeout;
        while (!(cluster.State.Members.Count == count && cluster.State.Members.All(m => m.Status == Akka.Cluster.MemberStatus.Up)))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"expected {count} members Up, saw: {string.Join(", ", cluster.State.Members.Select(m => $"{m.Address} {m.Status}"))}");
            await Task.Delay(50);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task ShutdownAsync(params ActorSystem?[] systems)
    {
        foreach (var s in systems)
            if (s is not null && !s.WhenTerminated.IsCompleted)
                await CoordinatedShutdown.Get(s).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
