using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Storage.Sqlite;
using StreamPersonalization.Tests.Reference;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary>
/// <see cref="PartitionRoundsStage"/> with users as plain workers and a real SQLite store, against the single-threaded
/// <see cref="UserShard"/> on the same log with checkpoints at the same offsets (<see cref="RoundsScenario"/>).
/// </summary>
public sealed class PartitionRoundsStageTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const int CheckpointEvery = 700;
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sp-rounds-" + Guid.NewGuid().ToString("n"));
    private RecordingStore _store = null!;

    public PartitionRoundsStageTests(ITestOutputHelper output) : base(output: output) => _output = output;

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

    private static PartitionRoundsOptions Options(int maxQueued = 50_000, int maxPending = 64) => new()
    {
        MaxRoundRecords = 300, CheckpointMaxRecords = CheckpointEvery, CheckpointInterval = TimeSpan.FromHours(1),
        MaxQueuedRecords = maxQueued, MaxPendingOutputs = maxPending, ExperimentStatsTopic = "experiment-stats",
        RetryMin = TimeSpan.FromMilliseconds(5), RetryMax = TimeSpan.FromMilliseconds(50),
    };

    private PartitionRoundsStage Stage(ShardOptions shard, WorkerRounds users, PartitionRoundsOptions options, Action<int, long>? committed = null) =>
        new("clickstream", p => new PartitionRounds(p, shard, experiments: true), _store, users, options, committed: committed);

    /// <summary>Takes every batch of outputs, acknowledges it after a short random delay, and records what was acknowledged.</summary>
    private sealed class AckingSink(int seed, double failShare = 0)
    {
        private readonly Random _rng = new(seed);
        public readonly List<ShardOutput> Outputs = [];
        public int Emitted, Acknowledged, Failed;

        public Sink<RoundOutputs, Task<Akka.Done>> Sink => Flow.Create<RoundOutputs>()
            .Select(o => { Interlocked.Increment(ref Emitted); return o; })
            .SelectAsync(1, async o =>
            {
                int delay;
                bool fail;
                lock (_rng) (delay, fail) = (_rng.Next(3), _rng.NextDouble() < failShare);
                await Task.Delay(delay);
                if (fail)
                {
                    // Some of the batch may have reached the broker before the failure: publish half of it.
                    lock (Outputs) Outputs.AddRange(o.Outputs.Take(o.Outputs.Count / 2));
                    Interlocked.Increment(ref Failed);
                    Interlocked.Increment(ref Acknowledged);
                    o.Fail(new InvalidOperationException("broker refused (injected)"));
                    return o;
                }
                lock (Outputs) Outputs.AddRange(o.Outputs);
                Interlocked.Increment(ref Acknowledged);
                o.Acknowledge();
                return o;
            })
            .ToMaterialized(Akka.Streams.Dsl.Sink.Ignore<RoundOutputs>(), Keep.Right);

        public string? Unacknowledged() => Volatile.Read(ref Emitted) == Volatile.Read(ref Acknowledged) ? null : $"{Emitted - Acknowledged} output batches not acknowledged";
    }

    [Fact]
    public async Task Stage_GeneratedLogThenRevoke_EqualsUserShard_CheckpointForCheckpoint_CommittingOnlyAcknowledgedOutputs()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(21, 6_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 21);
        var sink = new AckingSink(21);
        _store.BeforeCommit = sink.Unacknowledged;
        var revoked = new PartitionRevoked(0);
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 800, 21));
        events.Add(revoked);

        await Source.From(events).Via(Stage(options, users, Options())).RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(revoked.Acknowledged.IsCompletedSuccessfully, "the revoke is acknowledged after the last checkpoint");
        Assert.Empty(_store.Violations);
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), (sink.Outputs, _store.Scenario));
        Assert.Equal(log.Count, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);
        _output.WriteLine($"{users.Rounds} rounds, {_store.Commits} checkpoints");
    }

    [Fact]
    public async Task Stage_PoisonRecords_FailedRoundsAndCommits_RewindAndEqualUserShardRejectingThem()
    {
        var log = RoundsScenario.Log(22, 6_000);
        var ids = RoundsScenario.PageViewIds(log, every: 350, first: 11, take: 6);
        var faulty = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(ids) };
        var users = new WorkerRounds(_store, new UserProcessor(faulty, RoundsScenario.Catalog), 22) { FailRound = n => n % 7 == 5 };
        var sink = new AckingSink(22);
        var commits = 0;
        // Every seventh round fails (a timeout); every fourth checkpoint fails twice before it is committed.
        var stage = Stage(faulty, users, Options(), committed: (_, _) =>
        {
            if (++commits % 4 == 0) Interlocked.Exchange(ref _store.FailNextCommits, 2);
        });
        var revoked = new PartitionRevoked(0);
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 500, 22));
        events.Add(revoked);

        await Source.From(events).Via(stage).RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));

        _output.WriteLine($"{users.Poison.Count} poison records, {users.Rounds} rounds ({users.FailedRounds} failed), {commits} checkpoints ({_store.FailedCommits} failed commits)");
        Assert.True(users.FailedRounds >= 3 && _store.FailedCommits >= 2, "rounds and commits should have failed and been retried");
        Assert.True(users.Poison.Count >= 3, $"several chosen events should have thrown ({users.Poison.Count})");
        Assert.True(revoked.Acknowledged.IsCompletedSuccessfully);
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        var reference = RoundsScenario.RunShard(log, RoundsScenario.Options(null), ends, checkpoints, new Dictionary<long, PoisonRecordException>(users.Poison));
        // A failed round replays unmuted: its earlier rounds' outputs go out again (same record ids, de-duplicated downstream).
        var distinct = Distinct(sink.Outputs);
        Assert.True(distinct.Count < sink.Outputs.Count, "the failed rounds should have re-sent outputs");
        RoundsScenario.AssertSame(reference, (distinct, _store.Scenario));
    }

    [Fact]
    public async Task Revoke_MidStream_IsAcknowledgedOnlyAfterTheLastCheckpoint_AndTheNextOwnerGoesOnFromIt()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(23, 5_000);
        var half = 2_345;
        var sink = new AckingSink(23);
        _store.BeforeCommit = sink.Unacknowledged;
        var mat = Sys.Materializer();

        // First owner: records up to `half`, then the revoke arrives while rounds for them are still queued.
        var first = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 23);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(Stage(options, first, Options())).ToMaterialized(sink.Sink, Keep.Both).Run(mat);
        pub.SendNext(new PartitionAssigned(0, null));
        foreach (var b in PartitionEvents.Batches(log.Take(half).ToList(), 900, 23)) pub.SendNext(b);
        var revoked = new PartitionRevoked(0);
        pub.SendNext(revoked);
        Assert.False(revoked.Acknowledged.IsCompleted, "the revoke waits for the queued records' rounds and checkpoint");
        await revoked.Acknowledged.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(half, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);
        Assert.Null(sink.Unacknowledged());
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(10));

        // Next owner (fresh users, same store): from the checkpoint to the end.
        var second = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 24);
        var rest = log.Skip(half).ToList();
        var events = new List<PartitionEvent> { new PartitionAssigned(0, half) };
        events.AddRange(PartitionEvents.Batches(rest, 900, 24));
        events.Add(new PartitionRevoked(0));
        await Source.From(events).Via(Stage(options, second, Options())).RunWith(sink.Sink, mat).WaitAsync(TimeSpan.FromSeconds(60));

        var ends = PartitionEvents.CheckpointEvery(half, CheckpointEvery).Ends.Concat(PartitionEvents.CheckpointEvery(rest.Count, CheckpointEvery).Ends.Select(e => half + e)).ToList();
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, Enumerable.Range(0, ends.Count).ToHashSet()), (sink.Outputs, _store.Scenario));
        Assert.Empty(_store.Violations);
    }

    [Fact]
    public async Task BackPressure_SlowProducerSink_StopsPullingAtTheBound_ThenEveryRecordGoesThroughOnce()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(25, 6_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 25);
        var outputs = new List<ShardOutput>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);   // the sink takes one batch, then waits
        var (pub, done) = this.SourceProbe<PartitionEvent>()
            .Via(Stage(options, users, Options(maxQueued: 1_000, maxPending: 2)))
            .SelectAsync(1, async o => { await gate.Task; lock (outputs) outputs.AddRange(o.Outputs); o.Acknowledge(); return o; })
            .ToMaterialized(Sink.Ignore<RoundOutputs>(), Keep.Both).Run(Sys.Materializer());
        var batches = PartitionEvents.Batches(log, 200, 25);
        pub.SendNext(new PartitionAssigned(0, null));

        // The sink takes nothing: the stage pulls until it holds its bound, then stops asking.
        var sent = 0;
        while (sent < batches.Count && await DemandWithin(pub, TimeSpan.FromMilliseconds(500))) pub.SendNext(batches[sent++]);
        var held = batches.Take(sent).Sum(b => b.Records.Count);
        _output.WriteLine($"stopped pulling after {sent} batches ({held} records)");
        Assert.True(sent < batches.Count, "the stage should stop pulling while its sink takes nothing");
        Assert.InRange(held, 1_000, 1_000 + 4 * 300 + 200);   // the queue bound, rounds whose outputs wait (two queued, one in the sink, one in flight), one batch
        await Task.Delay(300);
        Assert.Equal(0, pub.Pending);

        gate.SetResult();
        while (sent < batches.Count) pub.SendNext(batches[sent++]);
        pub.SendNext(new PartitionRevoked(0));
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(30));

        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), (outputs, _store.Scenario));
    }

    private static async Task<bool> DemandWithin(TestPublisher.Probe<PartitionEvent> pub, TimeSpan wait)
    {
        var until = DateTime.UtcNow + wait;
        while (pub.Pending == 0)
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(5);
        }
        return true;
    }

    [Fact]
    public async Task Lost_CommitsNothing_AndTheNextIncarnationFromTheCheckpointEqualsAFaultFreeRun()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(26, 6_000);
        var sink = new AckingSink(26);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 26);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(Stage(options, users, Options())).ToMaterialized(sink.Sink, Keep.Both).Run(Sys.Materializer());
        pub.SendNext(new PartitionAssigned(0, null));
        var batches = PartitionEvents.Batches(log.Take(3_000).ToList(), 300, 26);
        var i = 0;
        for (; _store.Commits == 0 && i < batches.Count; i++) { pub.SendNext(batches[i]); await Task.Delay(10); }
        for (var more = 0; more < 3 && i < batches.Count; more++) pub.SendNext(batches[i++]);   // uncommitted work when the loss comes
        pub.SendNext(new PartitionLost(0));
        var revoked = new PartitionRevoked(0);
        pub.SendNext(revoked);                                 // a revoke after a loss has nothing to wait for
        await revoked.Acknowledged.WaitAsync(TimeSpan.FromSeconds(10));
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(batches.Take(i).Sum(b => b.Records.Count) > (await _store.LoadCheckpointAsync("users", 0))!.NextOffset, "the loss should have left uncommitted records");
        var resumeAt = (await _store.LoadCheckpointAsync("users", 0))?.NextOffset ?? 0;

        var again = new List<PartitionEvent> { new PartitionAssigned(0, resumeAt) };
        again.AddRange(PartitionEvents.Batches(log.Skip((int)resumeAt).ToList(), 300, 27));
        again.Add(new PartitionRevoked(0));
        await Source.From(again).Via(Stage(options, new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 27), Options()))
            .RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(30));

        var ends = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery).Ends;
        var reference = RoundsScenario.RunShard(log, options, ends, Enumerable.Range(0, ends.Count).ToHashSet());
        RoundsScenario.AssertSame(reference, (Distinct(sink.Outputs), _store.Scenario));
    }

    [Fact]
    public async Task Fenced_AnotherOwnerCommitted_StopsThePartition_AndAcknowledgesItsRevoke()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(28, 3_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 28);
        var sink = new AckingSink(28);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(Stage(options, users, Options())).ToMaterialized(sink.Sink, Keep.Both).Run(Sys.Materializer());
        pub.SendNext(new PartitionAssigned(0, null));
        var batches = PartitionEvents.Batches(log, 300, 28);
        var i = 0;
        for (; _store.Commits == 0; i++) { pub.SendNext(batches[i]); await Task.Delay(20); }
        // Another member took the partition over and committed past this one's checkpoint.
        var theirs = (await _store.LoadCheckpointAsync("users", 0))!;
        await _store.CommitAsync(new Core.Checkpoints.CheckpointBatch("users", 0, theirs.NextOffset, theirs.NextOffset + 1, theirs.WatermarkMs, theirs.ShardState, []));
        var commits = _store.Commits;
        for (; i < batches.Count; i++) pub.SendNext(batches[i]);
        var revoked = new PartitionRevoked(0);
        pub.SendNext(revoked);
        await revoked.Acknowledged.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(commits, _store.Commits);                                               // nothing more written by the fenced owner
        Assert.Equal(theirs.NextOffset + 1, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stage_RoundsFallingSilentHalfApplied_ReplayMutedFromTheCheckpoint_EqualsUserShard_WithoutARestart()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(36, 6_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 36) { LoseRound = n => n % 5 == 3 };
        var sink = new AckingSink(36);
        var board = new PartitionBoard();
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 800, 36));
        events.Add(new PartitionRevoked(0));
        long lost = 0, restarts = -1;
        var stage = new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, options, experiments: true), _store, users, Options(),
            board: board, stopped: s => (lost, restarts) = (s.LostRounds, s.Restarts));

        using var lostMetric = new CounterProbe(PartitionMetrics.LostRounds.Name);

        await Source.From(events).Via(stage).RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));

        _output.WriteLine($"{users.LostRounds} rounds fell silent, {users.Rounds} rounds");
        Assert.True(users.LostRounds >= 3);
        Assert.Equal(users.LostRounds, lost);
        Assert.True(lostMetric.Value >= lost, $"sp.shard.lost_rounds {lostMetric.Value}, {lost} lost here");   // other tests may add theirs
        Assert.Equal(0, restarts);   // expected around a hand-off: not a failure
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), (sink.Outputs, _store.Scenario));   // nothing published twice
    }

    [Fact]
    public async Task Stage_UsersLosingUncheckpointedState_ReplayMuted_EqualsUserShard()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(29, 6_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 29) { CrashShare = 0.002 };
        var sink = new AckingSink(29);
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 800, 29));
        events.Add(new PartitionRevoked(0));

        await Source.From(events).Via(Stage(options, users, Options())).RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));

        _output.WriteLine($"{users.StateLost} rounds refused for lost state, {users.Rounds} rounds");
        Assert.True(users.StateLost >= 3, "some workers should have vanished while dirty and been noticed");
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), (sink.Outputs, _store.Scenario));   // nothing published twice
    }

    [Fact]
    public async Task Stage_DataQualityAlerts_AreRaisedAtTheSameCheckpointsAsFromUserShardsCounters()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(30, 6_000);
        var quality = new Core.Experiments.Alerts.DataQualityOptions { WindowCheckpoints = 3, MinimumRecords = 500, InvalidWarningRatio = 0.01, LateWarningRatio = 0.005 };
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 30);
        var alerts = new List<string>();
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 800, 30));
        events.Add(new PartitionRevoked(0));
        var stage = new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, options, experiments: true), _store, users,
            new PartitionRoundsOptions
            {
                MaxRoundRecords = 300, CheckpointMaxRecords = CheckpointEvery, CheckpointInterval = TimeSpan.FromHours(1), DataQuality = quality,
            }, alerts: (_, a) => alerts.Add($"{a.Id} {a.Message}"));
        await Source.From(events).Via(stage).RunWith(new AckingSink(30).Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));

        // The reference: the same monitor over UserShard's counters at the same checkpoint offsets.
        var shard = new UserShard(0, options, RoundsScenario.Catalog, new ListShardOutput(), experiments: RoundsScenario.Experiments);
        var monitor = new Core.Experiments.Alerts.DataQualityMonitor("clickstream/0", quality);
        var expected = new List<string>();
        var from = 0;
        foreach (var end in PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery).Ends)
        {
            for (; from < end; from++) shard.Process(log[from]);
            var watermark = shard.WatermarkMs == long.MinValue ? (long?)null : shard.WatermarkMs;
            expected.AddRange(monitor.Observe(Core.Experiments.Alerts.DataQualitySample.From(shard.Counters, end, watermark)).Select(a => $"{a.Id} {a.Message}"));
        }
        Assert.NotEmpty(expected);
        Assert.Equal(expected, alerts);
    }

    /// <summary>Each output once (a replay after a failure publishes some again under the same record ids).</summary>
    private static List<ShardOutput> Distinct(IEnumerable<ShardOutput> outputs) => outputs.DistinctBy(o => o switch
    {
        DeadLetter d => $"dead {d.RecordId} {d.Reason} {d.Source.Offset}",
        UserErased e => $"erased {e.RecordId}",
        _ => $"{o.RecordId} {EngineRendering.Render(o)}",
    }).ToList();

    [Fact]
    public async Task Stage_FailuresDuringReplays_UndeliverableOutputsAndStoreReadErrors_LoseNothing()
    {
        var log = RoundsScenario.Log(32, 6_000);
        var ids = RoundsScenario.PageViewIds(log, every: 300, first: 17, take: 8);
        var faulty = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(ids) };
        // Rounds fail, workers vanish while dirty and poison records rewind, so failures meet replays still queued.
        var users = new WorkerRounds(_store, new UserProcessor(faulty, RoundsScenario.Catalog), 32) { CrashShare = 0.002, FailRound = n => n % 6 == 4 };
        var sink = new AckingSink(32, failShare: 0.03);
        var reads = 0;
        var lastFull = (log.Count - 1) / CheckpointEvery * CheckpointEvery;
        var atLastFull = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stage = Stage(faulty, users, Options(), committed: (_, next) =>
        {
            if (++reads % 3 == 0) Interlocked.Exchange(ref _store.FailNextLoads, 1);   // the timers read by the next rewind fail
            if (next >= lastFull) atLastFull.TrySetResult();
        });
        _store.FailNextLoads = 2;   // the first checkpoint and timer reads fail too
        var revoked = new PartitionRevoked(0);
        var events = new List<PartitionEvent> { new PartitionAssigned(0, null) };
        events.AddRange(PartitionEvents.Batches(log, 500, 32));

        // The revoke comes once the work is nearly done (a revoked partition gives up at its first failure instead of retrying).
        await Source.From(events).Concat(Source.FromTask(atLastFull.Task.ContinueWith(_ => (PartitionEvent)revoked)))
            .Via(stage).RunWith(sink.Sink, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(90));

        _store.FailNextLoads = 0;
        _output.WriteLine($"{users.Poison.Count} poison, {users.FailedRounds} failed rounds, {users.StateLost} lost states, {sink.Failed} failed deliveries, {_store.FailedLoads} failed reads, {users.Rounds} rounds");
        Assert.True(users.Poison.Count >= 3 && users.FailedRounds >= 3 && users.StateLost >= 1 && sink.Failed >= 1 && _store.FailedLoads >= 2, "every kind of fault should have happened");
        Assert.True(revoked.Acknowledged.IsCompletedSuccessfully);
        Assert.Equal(log.Count, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        var reference = RoundsScenario.RunShard(log, RoundsScenario.Options(null), ends, checkpoints, new Dictionary<long, PoisonRecordException>(users.Poison));
        // After a failed delivery, outputs of later rounds may have gone out before the replay re-sends the lost ones:
        // each user's records are all there, once, but not necessarily in order (as with the shard runner before).
        var distinct = Distinct(sink.Outputs);
        static Dictionary<string, List<string>> AsSets(IEnumerable<ShardOutput> outputs) =>
            RoundsScenario.InUserOrder(outputs).ToDictionary(kv => kv.Key, kv => kv.Value.Order(StringComparer.Ordinal).ToList());
        var want = AsSets(reference.Outputs);
        var got = AsSets(distinct);
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal));
        foreach (var (user, outputs) in want) Assert.Equal(outputs, got[user]);
        Assert.Equal(RoundsScenario.DeadLetters(reference.Outputs), RoundsScenario.DeadLetters(distinct));
        Assert.Equal(reference.Store.Checkpoints, _store.Scenario.Checkpoints);   // every checkpoint byte for byte
    }

    [Fact]
    public async Task Stage_OnePartitionsCorruptShardState_CostsOnlyThatPartition()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(33, 6_000);
        // Partition 1 has a checkpoint whose shard state cannot be read.
        _store.Recording = false;
        await _store.CommitAsync(new Core.Checkpoints.CheckpointBatch("users", 1, null, 0, 0, [0xba, 0xad], []));
        _store.Recording = true;
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 33);
        var sink = new AckingSink(33);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(Stage(options, users, Options())).ToMaterialized(sink.Sink, Keep.Both).Run(Sys.Materializer());
        pub.SendNext(new PartitionAssigned(1, 0));
        pub.SendNext(new PartitionRecords(1, PartitionEvents.Batches(log.Take(100).ToList(), 100, 33, partition: 1)[0].Records));
        pub.SendNext(new PartitionAssigned(0, null));
        foreach (var b in PartitionEvents.Batches(log, 700, 34)) pub.SendNext(b);
        var revoked0 = new PartitionRevoked(0);
        pub.SendNext(revoked0);
        await Task.WhenAny(revoked0.Acknowledged, done).WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAny(done, Task.Delay(200));
        Assert.False(done.IsCompleted, $"the graph should keep running: {done.Exception?.GetBaseException()}");
        Assert.Equal(log.Count, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);   // partition 0 went through

        var revoked1 = new PartitionRevoked(1);
        pub.SendNext(revoked1);
        await revoked1.Acknowledged.WaitAsync(TimeSpan.FromSeconds(30));                      // given up, not hung
        Assert.Equal(0, (await _store.LoadCheckpointAsync("users", 1))!.NextOffset);
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(10));
        var (ends, checkpoints) = PartitionEvents.CheckpointEvery(log.Count, CheckpointEvery);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), (sink.Outputs, _store.Scenario));
    }

    [Fact]
    public async Task Board_ShowsEachPartition_StalledWhileItsStoreIsDown_RestartsAfterFailures_FailedOnDataLoss_GoneWhenRevoked()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(35, 2_000);
        var users = new WorkerRounds(_store, new UserProcessor(options, RoundsScenario.Catalog), 35) { FailRound = n => n == 2 };
        var sink = new AckingSink(35);
        var board = new PartitionBoard();
        var stopped = new ConcurrentQueue<(int Partition, PartitionState State)>();
        var stage = new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, options, experiments: true), _store, users, Options(),
            board: board, stopped: s => stopped.Enqueue((s.Partition, s.State)));
        PartitionStatus Of(int partition) => board.Partitions.Single(p => p.Partition == partition);
        _store.FailNextLoads = 1_000_000;   // the store is down
        using var restartMetric = new CounterProbe(PartitionMetrics.Restarts.Name);
        var (pub, done) = this.SourceProbe<PartitionEvent>().Via(stage).ToMaterialized(sink.Sink, Keep.Both).Run(Sys.Materializer());
        pub.SendNext(new PartitionAssigned(0, null));
        pub.SendNext(new PartitionAssigned(1, null));
        await Eventually.UntilAsync(() => board.Partitions.Count == 2 && board.Partitions.All(p => p.State == PartitionState.Stalled && p.StoreRetries >= 2));
        Assert.All(board.Partitions, p => Assert.IsType<TimeoutException>(p.Failure));

        Interlocked.Exchange(ref _store.FailNextLoads, 0);   // it answers again
        await Eventually.UntilAsync(() => board.Partitions.All(p => p.State == PartitionState.Running && p.Failure is null));
        foreach (var b in PartitionEvents.Batches(log, 500, 35)) pub.SendNext(b);
        // Checkpoints every 700 records; round 2 fails once and the partition starts again from its checkpoint.
        await Eventually.UntilAsync(() => Of(0).NextOffset == log.Count && Of(0).CommittedOffset == 1_400 && Of(0).Queued == 0);
        Assert.Equal(1, Of(0).Restarts);
        Assert.Equal(1, board.Restarts);
        Assert.True(restartMetric.Value >= 1, "sp.shard.restarts should count the restart");
        Assert.True(Of(0).Counters.Records > 0);

        pub.SendNext(new PartitionDataLost(1, new DataLossException("partition 1: offset 0 fell off the log (test)")));
        await Eventually.UntilAsync(() => Of(1).State == PartitionState.Failed);
        Assert.IsType<DataLossException>(Of(1).Failure);
        pub.SendNext(new PartitionRecords(1, PartitionEvents.Batches(log.Take(100).ToList(), 100, 35, partition: 1)[0].Records));
        await Task.Delay(300);
        Assert.Equal(0, Of(1).NextOffset);   // nothing after a data loss is processed: it is never skipped silently

        var revoked1 = new PartitionRevoked(1);
        pub.SendNext(revoked1);
        await revoked1.Acknowledged.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(await _store.LoadCheckpointAsync("users", 1));
        var revoked0 = new PartitionRevoked(0);
        pub.SendNext(revoked0);
        await revoked0.Acknowledged.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(log.Count, (await _store.LoadCheckpointAsync("users", 0))!.NextOffset);
        Assert.Empty(board.Partitions);
        Assert.Equal(1, board.Restarts);   // kept after the partition left the board
        Assert.Equal([(1, PartitionState.Stopped), (0, PartitionState.Stopped)], stopped.ToArray());
        pub.SendComplete();
        await done.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
