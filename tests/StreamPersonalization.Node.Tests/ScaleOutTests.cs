using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Postgres;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Scale-out and scale-in with separate node processes sharing PostgreSQL: one node starts, two more join
/// mid-stream, then one is SIGKILLed and another stopped with SIGTERM while input keeps arriving; the survivor
/// finishes. The three form one Akka cluster (the newcomers join through node-a as seed; the SIGKILLed one is downed by
/// the split-brain resolver, the SIGTERMed one leaves). Stored state and de-duplicated outputs must equal a single
/// fault-free node's and the reference's.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class ScaleOutTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-scale-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ThreeNodes_JoinKillAndStop_EndInSameStateAsOneFaultFreeNode()
    {
        var scenario = new PipelineScenario(kafka, "scale", seed: 31, count: 60_000, users: 300, produceNow: 15_000);
        var run = scenario.KafkaFor("scaled");
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await store.InitializeAsync();
        var seedPort = FreePorts.Next();
        var seed = $"akka.tcp://sp@127.0.0.1:{seedPort}";
        string[] Args(string id) =>
        [
            .. RunComparison.NodeArgs(kafka, run, id, "scale-users", Path.Combine(_dir, id), ["--store", "postgres", "--postgres", pg.ConnectionString]),
            .. id == "node-a" ? new[] { "--akka-port", seedPort.ToString() } : ["--seeds", seed],
        ];
        Task<long> Progress() => PipelineScenario.CheckpointedAsync(store);

        using var a = NodeProcess.Start(Args("node-a"));
        await RunComparison.WaitForAsync(Progress, 3_000, a);
        using var b = NodeProcess.Start(Args("node-b"));
        using var c = NodeProcess.Start(Args("node-c"));
        // Both newcomers own partitions before the rest of the input arrives.
        await b.WaitForLogAsync("assigned partitions [", TimeSpan.FromMinutes(1));
        await c.WaitForLogAsync("assigned partitions [", TimeSpan.FromMinutes(1));
        await UntilOwnsAsync(b);
        await UntilOwnsAsync(c);
        await a.WaitForLogAsync("is Up (3 members,", TimeSpan.FromMinutes(1));
        scenario.ProduceRest();
        var before = await Progress();
        await RunComparison.WaitForAsync(Progress, before + 5_000, a, b, c);
        b.Kill();
        output.WriteLine($"SIGKILL node-b at {await Progress()} of {scenario.Count} checkpointed");
        await a.WaitForLogAsync("is removed (was Down) (2 members", TimeSpan.FromMinutes(1));   // downed by the resolver
        Assert.True(c.Terminate(TimeSpan.FromSeconds(60)), c.Log);
        Assert.True(c.ExitCode == 0, $"node-c exit {c.ExitCode}:\n{c.Log}");
        output.WriteLine($"SIGTERM node-c at {await Progress()} of {scenario.Count} checkpointed");
        await a.WaitForLogAsync("is removed (was Exiting) (1 members", TimeSpan.FromMinutes(1));   // left gracefully
        Assert.True(await Progress() < scenario.Count, "the input ended before the scale-in: nothing left to hand over");
        await RunComparison.WaitForAsync(Progress, scenario.Count, a);
        Assert.True(a.Terminate(TimeSpan.FromSeconds(60)), a.Log);
        Assert.True(a.ExitCode == 0, $"node-a exit {a.ExitCode}:\n{a.Log}");

        await RunComparison.AssertSameAsFaultFreeNodeAsync(scenario, store, run, _dir, "scale-single", output);
    }

    /// <summary>Waits for a node's latest assignment log line to name at least one partition.</summary>
    private static async Task UntilOwnsAsync(NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!node.Log.Split('\n').Where(l => l.Contains("assigned partitions [")).Select(l => !l.Contains("assigned partitions []")).LastOrDefault())
        {
            Assert.False(node.HasExited, node.Log);
            Assert.True(DateTime.UtcNow < deadline, $"never owned a partition:\n{node.Log}");
            await Task.Delay(100);
        }
    }
}
