using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Serialization;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Cluster;

/// <summary>Real ActorSystems over real remoting (127.0.0.1): joining through a seed, the admin view across nodes,
/// a graceful leave and a crashed member downed by the split-brain resolver.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class ClusterFormationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeNodes_JoinThroughASeed_AndEachAnswersForItselfAcrossNodes()
    {
        ActorSystem? a = null, b = null, c = null;
        try
        {
            a = await TestNodes.StartAsync("n-a", TestNodes.Config(), [0, 3]);
            var seed = TestNodes.AddressOf(a);
            b = await TestNodes.StartAsync("n-b", TestNodes.Config([seed]), [1, 4]);
            c = await TestNodes.StartAsync("n-c", TestNodes.Config([seed]), [2, 5]);
            await TestNodes.UntilUpAsync(a, 3, TimeSpan.FromSeconds(30));
            await TestNodes.UntilUpAsync(b, 3, TimeSpan.FromSeconds(30));
            await TestNodes.UntilUpAsync(c, 3, TimeSpan.FromSeconds(30));

            var view = await new ClusterAdmin(b).ViewAsync(TimeSpan.FromSeconds(5));
            output.WriteLine(string.Join("\n", view.Members));
            Assert.Equal(3, view.Members.Count);
            Assert.All(view.Members, m => Assert.Equal("Up", m.Status));
            Assert.Single(view.Members, m => m.IsSelf);
            Assert.Single(view.Members, m => m.IsLeader);
            var byNode = view.Members.ToDictionary(m => m.Node!.NodeId, m => m.Node!);
            Assert.Equal([0, 3], byNode["n-a"].Partitions);
            Assert.Equal([2, 5], byNode["n-c"].Partitions);
            Assert.Equal(TestNodes.AddressOf(c), byNode["n-c"].Address);
            // The answers crossed the network with the project's serializer (bound in hocon/akka.conf).
            Assert.IsType<RuntimeMessageSerializer>(b.Serialization.FindSerializerFor(byNode["n-a"]));
            Assert.IsType<RuntimeMessageSerializer>(b.Serialization.FindSerializerFor(GetNodeStatus.Instance));
        }
        finally
        {
            await TestNodes.ShutdownAsync(c, b, a);
        }
    }

    [Fact]
    public async Task Leave_AMember_RemovesItAndTerminatesItsSystem()
    {
        ActorSystem? a = null, b = null;
        try
        {
            a = await TestNodes.StartAsync("n-a", TestNodes.Config());
            b = await TestNodes.StartAsync("n-b", TestNodes.Config([TestNodes.AddressOf(a)]));
            await TestNodes.UntilUpAsync(a, 2, TimeSpan.FromSeconds(30));
            Assert.False(new ClusterAdmin(a).Leave("akka.tcp://sp@127.0.0.1:1"));
            Assert.True(new ClusterAdmin(a).Leave(TestNodes.AddressOf(b)));
            await b.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));   // CoordinatedShutdown ran on the leaving node
            await TestNodes.UntilUpAsync(a, 1, TimeSpan.FromSeconds(30));
        }
        finally
        {
            await TestNodes.ShutdownAsync(b, a);
        }
    }

    [Fact]
    public async Task CrashedMember_IsDownedBySplitBrainResolver_AndRemoved()
    {
        ActorSystem? a = null, b = null, c = null;
        try
        {
            a = await TestNodes.StartAsync("n-a", TestNodes.Config());
            var seed = TestNodes.AddressOf(a);
            b = await TestNodes.StartAsync("n-b", TestNodes.Config([seed]));
            // c dies without leaving: no CoordinatedShutdown, its transport just stops (as after SIGKILL).
            c = await TestNodes.StartAsync("n-c", TestNodes.Config([seed], "akka.coordinated-shutdown.run-by-actor-system-terminate = off"));
            await TestNodes.UntilUpAsync(a, 3, TimeSpan.FromSeconds(30));
            var crashed = Akka.Cluster.Cluster.Get(c).SelfAddress;
            var sw = Stopwatch.StartNew();
            await c.Terminate();
            var cluster = Akka.Cluster.Cluster.Get(a);
            TimeSpan? unreachableAt = null;
            while (cluster.State.Members.Any(m => m.Address == crashed))
            {
                if (unreachableAt is null && cluster.State.Unreachable.Any(m => m.Address == crashed)) unreachableAt = sw.Elapsed;
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(40), "the crashed member was never removed");
                await Task.Delay(20);
            }
            output.WriteLine($"unreachable after {unreachableAt?.TotalSeconds:F1} s, removed after {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(2, cluster.State.Members.Count(m => m.Status == MemberStatus.Up));
            Assert.Equal(MemberStatus.Up, Akka.Cluster.Cluster.Get(b).SelfMember.Status);   // the majority side stays up
        }
        finally
        {
            await TestNodes.ShutdownAsync(b, a);
        }
    }

    [Fact]
    public async Task ConfigDiscovery_TwoNodes_FormOneClusterWithoutSeeds()
    {
        ActorSystem? a = null, b = null;
        var ports = new[] { TestNodes.FreePort(), TestNodes.FreePort() };
        var endpoints = string.Join(", ", ports.Select(p => $"\"127.0.0.1:{p}\""));
        var discovery = $"sp.discovery {{ enabled = on, method = config, required-contact-points = 2, stable-margin = 1s, interval = 200ms, config-endpoints = [{endpoints}] }}";
        try
        {
            // Started in reverse order: the lowest-addressed node forms the cluster whichever starts first.
            b = await TestNodes.StartAsync("n-b", TestNodes.Config(extra: discovery, port: ports[1]));
            a = await TestNodes.StartAsync("n-a", TestNodes.Config(extra: discovery, port: ports[0]));
            Assert.Equal(NodeActorSystem.JoinMethod.Discovery, NodeActorSystem.MethodOf(a.Settings.Config));
            await TestNodes.UntilUpAsync(a, 2, TimeSpan.FromSeconds(60));
            await TestNodes.UntilUpAsync(b, 2, TimeSpan.FromSeconds(60));
            Assert.Equal(Akka.Cluster.Cluster.Get(a).State.Leader, Akka.Cluster.Cluster.Get(b).State.Leader);
        }
        finally
        {
            await TestNodes.ShutdownAsync(b, a);
        }
    }
}

[CollectionDefinition(nameof(ClusterCollection), DisableParallelization = true)]
public sealed class ClusterCollection;
