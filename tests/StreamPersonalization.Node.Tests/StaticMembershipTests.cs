using System.Text.RegularExpressions;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Postgres;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Restarting one node of three (SIGKILL, then SIGTERM) with the same node id, within the session timeout, moves no
/// partition of the other two: they neither stop a shard nor take a new one, and the restarted node gets back exactly the
/// partitions it had. The run then ends in the state of a fault-free single node.
/// </summary>
/// <remarks>
/// On Apache Kafka the restarted static member (group.instance.id = node id) rejoins without a rebalance. librdkafka's mock
/// coordinator ignores group.instance.id (classic protocol: members are found by member id only), so here the rejoin is a
/// rebalance; cooperative-sticky then hands the restarted node the partitions of its expired predecessor and leaves the
/// others alone. The restart lands inside the session timeout, and the mock's join window (session timeout − 1 s) outlasts
/// the predecessor's expiry, as the timings below arrange.
/// </remarks>
[Collection(KafkaCollection.Name)]
public sealed partial class StaticMembershipTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-static-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task RestartOfOneNodeOfThree_MovesNoPartitionOfTheOtherTwo()
    {
        var scenario = new PipelineScenario(kafka, "static", seed: 37, count: 48_000, users: 300, produceNow: 12_000);
        var run = scenario.KafkaFor("static-run");
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await store.InitializeAsync();
        string[] Args(string id) =>
        [
            .. RunComparison.NodeArgs(kafka, run, id, "static-users", Path.Combine(_dir, id), ["--store", "postgres", "--postgres", pg.ConnectionString]),
            "--set", $"Kafka:SessionTimeout={SessionTimeout:c}",
        ];
        Task<long> Progress() => PipelineScenario.CheckpointedAsync(store);

        var a = NodeProcess.Start(Args("node-a"));
        var b = NodeProcess.Start(Args("node-b"));
        var c = NodeProcess.Start(Args("node-c"));
        try
        {
            var settled = await SettledAsync([a, b, c]);
            output.WriteLine($"settled: a [{string.Join(",", settled[0])}] b [{string.Join(",", settled[1])}] c [{string.Join(",", settled[2])}]");
            await RunComparison.WaitForAsync(Progress, 3_000, a, b, c);

            foreach (var how in new[] { "SIGKILL", "SIGTERM" })
            {
                var marks = (a.Log.Length, b.Log.Length);
                var cOwned = Owned(c.Log);
                if (how == "SIGKILL") c.Kill();
                else Assert.True(c.Terminate(TimeSpan.FromSeconds(60)) && c.ExitCode == 0, $"node-c SIGTERM exit:\n{c.Log}");
                var stoppedAt = DateTime.UtcNow;
                // Back within the session timeout (the old member has not expired yet when the new one joins).
                await Task.Delay(SessionTimeout * 0.4);
                c.Dispose();
                c = NodeProcess.Start(Args("node-c"));
                await UntilOwnsAsync(c, cOwned);
                output.WriteLine($"{how}: node-c owns [{string.Join(",", cOwned)}] again {(DateTime.UtcNow - stoppedAt).TotalSeconds:F1} s after it stopped");
                await Task.Delay(TimeSpan.FromSeconds(2));   // a later rebalance would show up in these logs
                foreach (var (node, mark, name) in new[] { (a, marks.Item1, "node-a"), (b, marks.Item2, "node-b") })
                {
                    var since = node.Log[mark..];
                    Assert.DoesNotMatch(ShardStopped(), since);
                    Assert.DoesNotMatch(NonEmptyAssignment(), since);
                    Assert.False(node.HasExited, $"{name} exited:\n{node.Log}");
                }
            }

            scenario.ProduceRest();
            await RunComparison.WaitForAsync(Progress, scenario.Count, a, b, c);
            foreach (var node in new[] { c, b, a })   // one after another: each hands over before the next leaves
                Assert.True(node.Terminate(TimeSpan.FromSeconds(60)) && node.ExitCode == 0, node.Log);
        }
        finally
        {
            a.Dispose();
            b.Dispose();
            c.Dispose();
        }

        await RunComparison.AssertSameAsFaultFreeNodeAsync(scenario, store, run, _dir, "static-single", output);
    }

    /// <summary>The partitions a node owns according to its log: assigned minus stopped.</summary>
    private static SortedSet<int> Owned(string log)
    {
        var owned = new SortedSet<int>();
        foreach (var line in log.Split('\n'))
        {
            if (NonEmptyAssignment().Match(line) is { Success: true } m)
                foreach (var p in m.Groups[1].Value.Split(',')) owned.Add(int.Parse(p));
            else if (ShardStopped().Match(line) is { Success: true } s)
                owned.Remove(int.Parse(s.Groups[1].Value));
        }
        return owned;
    }

    /// <summary>Waits until the nodes own every partition between them, each at least one, unchanged for 3 s.</summary>
    private static async Task<List<SortedSet<int>>> SettledAsync(NodeProcess[] nodes)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string? last = null;
        var since = DateTime.UtcNow;
        while (true)
        {
            var owned = nodes.Select(n => Owned(n.Log)).ToList();
            var key = string.Join("|", owned.Select(o => string.Join(",", o)));
            var complete = owned.All(o => o.Count > 0) && owned.Sum(o => o.Count) == PipelineScenario.Partitions;
            if (key != last) (last, since) = (key, DateTime.UtcNow);
            else if (complete && DateTime.UtcNow - since > TimeSpan.FromSeconds(3)) return owned;
            foreach (var n in nodes) Assert.False(n.HasExited, n.Log);
            Assert.True(DateTime.UtcNow < deadline, $"group did not settle: {key}");
            await Task.Delay(100);
        }
    }

    private static async Task UntilOwnsAsync(NodeProcess node, SortedSet<int> expected)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!Owned(node.Log).SetEquals(expected))
        {
            Assert.False(node.HasExited, node.Log);
            Assert.True(DateTime.UtcNow < deadline, $"owns [{string.Join(",", Owned(node.Log))}], expected [{string.Join(",", expected)}]:\n{node.Log}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"assigned partitions \[([0-9][0-9,]*)\]")]
    private static partial Regex NonEmptyAssignment();

    [GeneratedRegex(@"Shard (\d+) stopped")]
    private static partial Regex ShardStopped();
}
