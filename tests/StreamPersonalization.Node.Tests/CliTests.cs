using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests;

/// <summary>The <c>sp</c> executable as a user runs it: the demo, the generator verb, and configuration errors.</summary>
[Collection(KafkaCollection.Name)]
public sealed class CliTests(KafkaFixture kafka) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-cli-").FullName;

    [Fact]
    public async Task Demo_WithDuration_ProcessesTrafficAndExitsCleanly()
    {
        using var demo = NodeProcess.Start(["demo", "--duration", "12s", "--rate", "5000", "--set", $"Node:DataDirectory={_dir}"]);
        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(90)), $"demo did not stop by itself:\n{demo.Log}");
        Assert.True(demo.ExitCode == 0, $"exit code {demo.ExitCode}:\n{demo.Log}");
        Assert.Contains("segments:", demo.Log);
        Assert.Contains("stopped", demo.Log);
        Assert.Matches(@"valid [1-9][\d,]*", demo.Log);   // events were processed, not just produced
        Assert.True(File.Exists(Path.Combine(_dir, "demo.db")));
    }

    [Fact]
    public async Task Produce_WritesExactlyCountRecords()
    {
        kafka.Cluster.CreateTopic("cli-produce", 3);
        using var produce = NodeProcess.Start(["produce", "--bootstrap", kafka.Bootstrap, "--topic", "cli-produce", "--count", "5000", "--seed", "3"]);
        Assert.True(await produce.WaitForExitAsync(TimeSpan.FromSeconds(60)), produce.Log);
        Assert.True(produce.ExitCode == 0, produce.Log);
        Assert.Equal(5000, TopicReader.HighWatermarkSum(kafka.Bootstrap, "cli-produce", 3));
    }

    [Theory]
    [InlineData("Node:CheckpointMaxRecords=0", "Node:CheckpointMaxRecords")]
    [InlineData("Storage:Provider=mysql", "Storage:Provider")]
    [InlineData("Sessions:Gap=00:00:00", "Sessions:Gap")]
    public async Task Run_InvalidSetting_FailsNamingTheKey(string setting, string key)
    {
        using var run = NodeProcess.Start(["run", "--bootstrap", kafka.Bootstrap, "--data-dir", _dir, "--set", setting]);
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(30)), run.Log);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"error: ", run.Log);
        Assert.Contains($"'{key}'", run.Log);
        Assert.DoesNotContain("   at ", run.Log);   // one clear line, not a stack trace
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
