using System.Collections.Concurrent;
using Akka.Actor;
using StreamPersonalization.Runtime.Cluster;

namespace StreamPersonalization.Runtime.Tests.Cluster;

/// <summary>What a node tells its operator about membership: one log line per change, and whether the cluster downed it.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class MembershipTests
{
    [Fact]
    public async Task MembershipLog_ReportsJoinCrashAndRemoval_WithTheCountsAfterEachChange()
    {
        var lines = new ConcurrentQueue<string>();
        ActorSystem? a = null, b = null, c = null;
        try
        {
            a = await TestNodes.StartAsync("n-a", TestNodes.Config());
            a.ActorOf(MembershipLogActor.Props(lines.Enqueue), MembershipLogActor.Name);
            var seed = TestNodes.AddressOf(a);
            b = await TestNodes.StartAsync("n-b", TestNodes.Config([seed]));
            c = await TestNodes.StartAsync("n-c", TestNodes.Config([seed], "akka.coordinated-shutdown.run-by-actor-system-terminate = off"));
            await TestNodes.UntilUpAsync(a, 3, TimeSpan.FromSeconds(30));
            var crashed = TestNodes.AddressOf(c);
            await c.Terminate();
            await UntilAsync(lines, $"cluster: {crashed} is removed (was Down) (2 members,");

            var log = lines.ToList();
            Assert.Contains($"cluster: {TestNodes.AddressOf(b)} is Up", string.Join("\n", log));
            var unreachable = log.FindIndex(l => l.StartsWith($"cluster: {crashed} is unreachable (3 members,", StringComparison.Ordinal));
            var downed = log.FindIndex(l => l.StartsWith($"cluster: {crashed} is downed", StringComparison.Ordinal));
            var removed = log.FindIndex(l => l.StartsWith($"cluster: {crashed} is removed", StringComparison.Ordinal));
            Assert.True(unreachable >= 0 && unreachable < downed && downed < removed, string.Join("\n", log));
        }
        finally
        {
            await TestNodes.ShutdownAsync(b, a);
        }
    }

    [Fact]
    public async Task Downed_IsTrueOnlyForANodeTheClusterDowned()
    {
        NodeRuntime? a = null, b = null, c = null;
        try
        {
            a = await NodeRuntime.StartAsync("sp", TestNodes.Config(), "n-a", Idle);
            var seed = a.Address;
            b = await NodeRuntime.StartAsync("sp", TestNodes.Config([seed]), "n-b", Idle);
            c = await NodeRuntime.StartAsync("sp", TestNodes.Config([seed]), "n-c", Idle);
            await TestNodes.UntilUpAsync(a.System, 3, TimeSpan.FromSeconds(30));
            var drained = new TaskCompletionSource();
            b.OnDrain("test-drain", () => { drained.TrySetResult(); return Task.CompletedTask; });

            Akka.Cluster.Cluster.Get(a.System).Down(Akka.Actor.Address.Parse(b.Address));
            await b.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(drained.Task.IsCompleted, "a downed node drains before it stops");
            Assert.True(b.Downed);

            await c.ShutdownAsync().WaitAsync(TimeSpan.FromSeconds(30));   // a graceful stop is not a downing
            Assert.False(c.Downed);
            Assert.False(a.Downed);
        }
        finally
        {
            foreach (var r in new[] { c, b, a })
                if (r is not null) await r.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static LocalNodeState Idle() => new(true, [], 0);

    private static async Task UntilAsync(ConcurrentQueue<string> lines, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (!lines.Any(l => l.StartsWith(expected, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"never logged '{expected}'; got:\n{string.Join("\n", lines)}");
            await Task.Delay(50);
        }
    }
}
