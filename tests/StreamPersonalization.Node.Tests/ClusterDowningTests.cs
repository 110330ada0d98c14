using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Postgres;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// A node frozen (SIGSTOP) for longer than the split-brain resolver's stable-after, as a node cut off by a network
/// partition: the survivor downs it and takes its partitions; thawed, the frozen node learns it was downed and exits
/// with code 4 without writing over the survivor's checkpoints. The stored state at the end equals a fault-free single
/// node's: nothing is counted twice.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class ClusterDowningTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-downing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FrozenNode_IsDownedItsShardsMove_NothingCountedTwice()
    {
        var scenario = new PipelineScenario(kafka, "downing", seed: 43, count: 40_000, users: 300, produceNow: 10_000);
        var run = scenario.KafkaFor("downing-run");
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await store.InitializeAsync();
        // Two members: the resolver (keep-majority) keeps the half with the lowest address, so node-a gets the lower port.
        var ports = new[] { FreePort(), FreePort() }.Order().ToArray();
        var seed = $"akka.tcp://sp@127.0.0.1:{ports[0]}";
        string[] Args(string id, int port, bool joinSeed) =>
        [
            .. RunComparison.NodeArgs(kafka, run, id, "downing-users", Path.Combine(_dir, id), ["--store", "postgres", "--postgres", pg.ConnectionString]),
            "--akka-port", port.ToString(), .. joinSeed ? new[] { "--seeds", seed } : [],
        ];
        Task<long> Progress() => PipelineScenario.CheckpointedAsync(store);

        using var a = NodeProcess.Start(Args("node-a", ports[0], joinSeed: false));
        using var b = NodeProcess.Start(Args("node-b", ports[1], joinSeed: true));
        await a.WaitForLogAsync($"127.0.0.1:{ports[1]} is Up", TimeSpan.FromMinutes(1));
        await b.WaitForLogAsync("assigned partitions [", TimeSpan.FromMinutes(1));
        await RunComparison.WaitForAsync(Progress, 5_000, a, b);

        b.Freeze();
        var frozenAt = DateTime.UtcNow;
        scenario.ProduceRest();
        await a.WaitForLogAsync($"127.0.0.1:{ports[1]} is removed", TimeSpan.FromMinutes(1));
        output.WriteLine($"node-b removed from the cluster {(DateTime.UtcNow - frozenAt).TotalSeconds:F1} s after SIGSTOP");
        // The survivor finishes the whole input, node-b's partitions included, while node-b is still frozen.
        await RunComparison.WaitForAsync(Progress, scenario.Count, a);
        output.WriteLine($"node-a checkpointed every record {(DateTime.UtcNow - frozenAt).TotalSeconds:F1} s after SIGSTOP");

        b.Thaw();
        Assert.True(await b.WaitForExitAsync(TimeSpan.FromSeconds(90)), $"node-b still running after SIGCONT:\n{b.Log}");
        Assert.True(b.ExitCode == 4, $"node-b exit {b.ExitCode}:\n{b.Log}");
        Assert.Contains("was downed by the cluster", b.Log);
        Assert.False(a.HasExited, a.Log);
        Assert.True(a.Terminate(TimeSpan.FromSeconds(60)) && a.ExitCode == 0, $"node-a exit:\n{a.Log}");

        output.WriteLine($"--- node-b ---\n{b.Log}");
        await RunComparison.AssertSameAsFaultFreeNodeAsync(scenario, store, run, _dir, "downing-single", output);
    }

    private static int FreePort() => FreePorts.Next();
}
