using Akka.Streams;
using Akka.Streams.Dsl;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Tests.Cluster;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Storage.Sqlite;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary><see cref="PartitionRoundsStage"/> driving sharded user actors on a one-node cluster, with a real SQLite store.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class PartitionRoundsActorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;

    public PartitionRoundsActorTests(ITestOutputHelper output) : base(TestNodes.Config(), nameof(PartitionRoundsActorTests), output) => _output = output;

    [Fact]
    public async Task Stage_ThroughUserActors_CheckpointBarriersRacingPassivation_EqualsUserShard()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sp-rounds-actors-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            await using var store = new RecordingStore(new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(dir, "state.db") }));
            await store.InitializeAsync();
            var options = RoundsScenario.Options(null);
            var log = RoundsScenario.Log(5, 6_000);
            var cluster = Akka.Cluster.Cluster.Get(Sys);
            await cluster.JoinAsync(cluster.SelfAddress);
            // Actors idle for 3 ms passivate: checkpoints (every 150 records) constantly meet actors that are stopping.
            var region = await UserSharding.StartAsync(Sys, new UserActorSettings(new UserProcessor(options, RoundsScenario.Catalog), () => RoundsScenario.Experiments,
                new CheckpointStoreUserStateLoader(store), TimeSpan.FromMilliseconds(3)));
            await UserSharding.PlaceAsync(Sys, 0, cluster.SelfAddress);
            var users = new UserRoundClient(Sys, region, retryDelay: TimeSpan.FromMilliseconds(10), roundTimeout: TimeSpan.FromSeconds(30));
            var stageOptions = new PartitionRoundsOptions
            {
                MaxRoundRecords = 60, CheckpointMaxRecords = 150, CheckpointInterval = TimeSpan.FromHours(1), ExperimentStatsTopic = "experiment-stats",
            };
            var outputs = new List<ShardOutput>();
            var revoked = new PartitionRevoked(0);
            var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
            events.AddRange(PartitionEvents.Batches(log, 400, 31));
            events.Add(revoked);
            var bouncedBefore = UserActor.RoundsBounced;

            await Source.From(events)
                .Via(new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, options, experiments: true), store, users, stageOptions))
                .Select(o => { outputs.AddRange(o.Outputs); o.Acknowledge(); return o; })
                .RunWith(Sink.Ignore<RoundOutputs>(), Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(120));

            Assert.True(revoked.Acknowledged.IsCompletedSuccessfully);
            var ends = PartitionEvents.CheckpointEvery(log.Count, 150).Ends;
            RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, Enumerable.Range(0, ends.Count).ToHashSet()), (outputs, store.Scenario));
            _output.WriteLine($"{store.Commits} checkpoints, {UserActor.RoundsBounced - bouncedBefore} rounds bounced off passivating actors");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
