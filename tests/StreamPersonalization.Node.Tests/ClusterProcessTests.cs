using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using StreamPersonalization.Node.Tests.Support;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests;

/// <summary>
/// Node processes in one Akka cluster over real remoting: the second joins through the first as seed; each node's
/// <c>/v1/admin/cluster</c> lists both members Up with the Kafka partitions each owns; <c>sp cluster members</c> shows
/// the same; <c>sp cluster leave</c> makes a member drain and exit cleanly; a bad Akka setting stops a node at start.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class ClusterProcessTests(KafkaFixture kafka, ITestOutputHelper output) : IDisposable
{
    private const string Token = "cluster-test-token-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Args(string id, int httpPort, int akkaPort, string? seed, string topic) =>
    [
        "run", "--bootstrap", kafka.Bootstrap, "--node-id", id, "--data-dir", Path.Combine(_dir, id), "--urls", $"http://127.0.0.1:{httpPort}",
        "--akka-port", akkaPort.ToString(), .. seed is null ? Array.Empty<string>() : ["--seeds", seed],
        "--set", $"Http:AdminToken={Token}", "--set", $"Kafka:ClickstreamTopic={topic}", "--set", "Node:GroupId=cluster-users",
        "--set", "Node:ExperimentsGroupId=cluster-experiments", "--set", "Kafka:ExperimentStatsTopic=cluster-x", "--set", "Kafka:ExperimentStateTopic=cluster-y",
        "--set", "Kafka:SessionTimeout=00:00:06", "--set", "Storage:Sqlite:Path=" + Path.Combine(_dir, "shared.db"),
    ];

    [Fact]
    public async Task TwoNodes_FormOneCluster_AdminViewAndSpClusterShowMembersAndShards_LeaveDrainsOne()
    {
        const string topic = "cluster-clickstream";
        kafka.Cluster.CreateTopic(topic, 4);
        foreach (var t in new[] { "cluster-x", "cluster-y" }) kafka.Cluster.CreateTopic(t, 4);
        var (httpA, httpB) = (FreePorts.Next(), FreePorts.Next());
        var (akkaA, akkaB) = (FreePort(), FreePort());
        var seed = $"akka.tcp://sp@127.0.0.1:{akkaA}";
        using var a = NodeProcess.Start(Args("node-a", httpA, akkaA, null, topic));
        using var b = NodeProcess.Start(Args("node-b", httpB, akkaB, seed, topic));
        using var clientA = Client(httpA);
        using var clientB = Client(httpB);

        var view = await UntilAsync(clientB, v => v.GetProperty("members").GetArrayLength() == 2
            && v.GetProperty("members").EnumerateArray().All(m => m.GetProperty("status").GetString() == "Up"
                && m.GetProperty("node").ValueKind == JsonValueKind.Object && m.GetProperty("node").GetProperty("partitions").GetArrayLength() > 0), a, b);
        output.WriteLine(view.ToString());
        var partitions = view.GetProperty("members").EnumerateArray()
            .ToDictionary(m => m.GetProperty("node").GetProperty("node_id").GetString()!, m => m.GetProperty("node").GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()).ToList());
        Assert.Equal(["node-a", "node-b"], partitions.Keys.Order());
        Assert.Empty(partitions["node-a"].Intersect(partitions["node-b"]));
        Assert.Equal([0, 1, 2, 3], partitions.Values.SelectMany(p => p).Order());
        Assert.Equal(seed, view.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("node").GetProperty("node_id").GetString() == "node-a").GetProperty("address").GetString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient().GetAsync($"http://127.0.0.1:{httpA}/v1/admin/cluster")).StatusCode);
        var ready = await clientA.GetStringAsync("/readyz");
        Assert.Contains("\"cluster_member_up\":true", ready);

        using (var members = NodeProcess.Start(["cluster", "members", "--url", $"http://127.0.0.1:{httpA}", "--token", Token]))
        {
            Assert.True(await members.WaitForExitAsync(TimeSpan.FromSeconds(30)), members.Log);
            Assert.True(members.ExitCode == 0, members.Log);
            // Redirected output: one tab-separated line per member.
            var line = members.Log.Split('\n').Single(l => l.StartsWith($"akka.tcp://sp@127.0.0.1:{akkaB}\t", StringComparison.Ordinal)).TrimEnd('\r').Split('\t');
            var bIsLeader = view.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("node").GetProperty("node_id").GetString() == "node-b").GetProperty("leader").GetBoolean();
            Assert.Equal(["Up", "yes", bIsLeader ? "*" : "", "node-b", "yes", $"{partitions["node-b"].Count}: [{string.Join(",", partitions["node-b"])}]"], line[1..7]);
        }
        using (var leave = NodeProcess.Start(["cluster", "leave", $"akka.tcp://sp@127.0.0.1:{akkaB}", "--url", $"http://127.0.0.1:{httpA}", "--token", Token]))
        {
            Assert.True(await leave.WaitForExitAsync(TimeSpan.FromSeconds(30)), leave.Log);
            Assert.True(leave.ExitCode == 0, leave.Log);
        }
        // node-b drains (every shard checkpoints), hands off, leaves and exits cleanly; node-a takes its partitions.
        Assert.True(await b.WaitForExitAsync(TimeSpan.FromSeconds(90)), b.Log);
        Assert.True(b.ExitCode == 0, $"exit {b.ExitCode}:\n{b.Log}");
        Assert.Contains("left the cluster", b.Log);
        await UntilAsync(clientA, v => v.GetProperty("members").GetArrayLength() == 1
            && v.GetProperty("members")[0].GetProperty("node").GetProperty("partitions").GetArrayLength() == 4, a);
        Assert.True(a.Terminate(TimeSpan.FromSeconds(60)) && a.ExitCode == 0, a.Log);
    }

    [Theory]
    [InlineData(new[] { "--akka-port", "70000" }, "akka.remote.dot-netty.tcp.port")]
    [InlineData(new[] { "--seeds", "akka.tcp://other@127.0.0.1:1" }, "akka.cluster.seed-nodes")]
    [InlineData(new[] { "--set", "Akka:Environment=staging" }, "Akka:Environment")]
    public async Task Run_BadAkkaSetting_FailsAtStartNamingTheKey(string[] extra, string key)
    {
        using var run = NodeProcess.Start(["run", "--bootstrap", kafka.Bootstrap, "--data-dir", _dir, "--urls", "none", .. extra]);
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(30)), run.Log);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"'{key}'", run.Log);
        Assert.DoesNotContain("   at ", run.Log);
    }

    private static HttpClient Client(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    private static async Task<JsonElement> UntilAsync(HttpClient http, Func<JsonElement, bool> done, params NodeProcess[] nodes)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            foreach (var n in nodes) Assert.False(n.HasExited, n.Log);
            try
            {
                var response = await http.GetAsync("/v1/admin/cluster");
                last = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && JsonDocument.Parse(last).RootElement is var view && done(view)) return view.Clone();
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"cluster view never matched; last: {last}\n{string.Join("\n-----\n", nodes.Select(n => n.Log))}");
    }

    private static int FreePort() => FreePorts.Next();
}
