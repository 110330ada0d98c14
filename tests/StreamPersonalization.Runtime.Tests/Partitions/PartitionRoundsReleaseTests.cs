using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Storage.Sqlite;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary>
/// <see cref="PartitionRoundsStage"/> gives each record back to the source (<see cref="PartitionRecords.Release"/>)
/// exactly once: when a round takes it, or when the partition drops it. The source pauses a partition on that count
/// (<see cref="KafkaSourceOptions.HoldUntilReleased"/>), so a record released early would unbound memory and one never
/// released would pause its partition for good.
/// </summary>
public sealed class PartitionRoundsReleaseTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sp-release-" + Guid.NewGuid().ToString("n"));
    private RecordingStore _store = null!;
    private long _released;

    public PartitionRoundsReleaseTests(ITestOutputHelper output) : base(output: output) => _output = output;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _store = new RecordingStore(new SqliteCheckpointStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "state.db") }));
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private long Released => Interlocked.Read(ref _released);

    /// <summary>The log's batches as a source holding records until released would emit them.</summary>
    private List<PartitionRecords> Batches(int seed, int partition = 0) =>
        PartitionEvents.Batches(RoundsScenario.Log(seed, 6_000), 200, seed, partition)
            .Select(b => b with { Releaser = n => Interlocked.Add(ref _released, n) }).ToList();

    /// <summary>The stage on a sink that takes one batch of outputs and then waits for <paramref name="gate"/>.</summary>
    private (TestPublisher.Probe<PartitionEvent>, Task) Run(TaskCompletionSource gate, int seed)
    {
        var shard = RoundsScenario.Options(null);
        var users = new WorkerRounds(_store, new UserProcessor(shard, RoundsScenario.Catalog), seed);
        var options = new PartitionRoundsOptions
        {
            MaxRoundRecords = 300, CheckpointMaxRecords = 700, CheckpointInterval = TimeSpan.FromHours(1), MaxPendingOutputs = 2,
            RetryMin = TimeSpan.FromMilliseconds(5), RetryMax = TimeSpan.FromMilliseconds(50),
        };
        var stage = new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, shard, experiments: true), _store, users, options);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(stage)
            .SelectAsync(1, async o => { await gate.Task; o.Acknowledge(); return o; })
            .ToMaterialized(Sink.Ignore<RoundOutputs>(), Keep.Both).Run(Sys.Materializer());
        return (pub, done);
    }

    /// <summary>Sends each event once the stage asks for it (<c>SendNext</c> waits for demand itself).</summary>
    private static Task SendAll(TestPublisher.Probe<PartitionEvent> pub, IEnumerable<PartitionEvent> events)
    {
        foreach (var e in events) pub.SendNext(e);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Release_EachRecordOnce_WhenARoundTakesIt_NotWhenItArrives()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (pub, done) = Run(gate, 41);
        var batches = Batches(41);
        var offered = batches.Sum(b => b.Records.Count);
        pub.SendNext(new PartitionAssigned(0, null));
        await SendAll(pub, batches);

        // The sink waits: rounds stop once their outputs fill the stage's pending bound; the rest stays held.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var whileWaiting = Released;
        _output.WriteLine($"released {whileWaiting} of {offered} while the sink waits");
        Assert.InRange(whileWaiting, 1, 5 * 300);   // rounds whose outputs wait (two queued, one in the sink, one in flight) and one planned
        await Task.Delay(300);
        Assert.Equal(whileWaiting, Released);

        gate.SetResult();
        pub.SendNext(new PartitionRevoked(0));
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(offered, Released);
    }

    [Fact]
    public async Task Release_RecordsOfALostPartition_AndOfOneNotRunningHere_AreAllGivenBack()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (pub, done) = Run(gate, 42);
        var batches = Batches(42);
        pub.SendNext(new PartitionAssigned(0, null));
        await SendAll(pub, batches.Take(batches.Count / 2));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = batches.Take(batches.Count / 2).Sum(b => b.Records.Count);
        Assert.True(Released < sent, $"records should be held when the partition is lost ({Released} of {sent} released)");

        pub.SendNext(new PartitionLost(0));                               // what it holds is the next owner's
        await SendAll(pub, batches.Skip(batches.Count / 2));               // and what still arrives is not run here
        var stray = Batches(43, partition: 5).Take(3).ToList();           // nor are a never-assigned partition's records
        await SendAll(pub, stray);
        await Eventually.UntilAsync(() => Released == batches.Sum(b => b.Records.Count) + stray.Sum(b => b.Records.Count));

        gate.SetResult();
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(batches.Sum(b => b.Records.Count) + stray.Sum(b => b.Records.Count), Released);
    }
}
