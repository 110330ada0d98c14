using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit2;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Tests.Cluster;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Users;

/// <summary>
/// User actors under Akka.Cluster.Sharding on a one-node cluster, driven by a partition's rounds exactly as the node
/// drives them, against the single-threaded <see cref="UserShard"/> on the same log (<see cref="RoundsScenario"/>).
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class UserActorTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public UserActorTests(ITestOutputHelper output) : base(TestNodes.Config(), nameof(UserActorTests), output) => _output = output;

    private async Task<IActorRef> StartRegionAsync(ShardOptions options, IUserStateLoader loader, TimeSpan passivateAfter)
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        await cluster.JoinAsync(cluster.SelfAddress);
        var processor = new UserProcessor(options, RoundsScenario.Catalog);
        var region = await UserSharding.StartAsync(Sys, new UserActorSettings(processor, () => RoundsScenario.Experiments, loader, passivateAfter));
        await UserSharding.PlaceAsync(Sys, 0, cluster.SelfAddress);
        return region;
    }

    [Fact]
    public async Task Rounds_ThroughShardedUserActors_EqualUserShard_WithPassivationAndFailedLoads()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(5, 6_000);
        var (ends, checkpoints) = RoundsScenario.Batching(log.Count, 150, 5);
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store) { FailureShare = 0.05 };
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.FromMilliseconds(40));
        var client = new UserRoundClient(Sys, region, retryDelay: TimeSpan.FromMilliseconds(10));
        var rng = new Random(5);
        var epoch = 0x5eed;

        var actors = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, (round, _, committed) =>
        {
            // Pauses around the idle timeout let clean users passivate, some while the next round reaches them.
            if (rng.Next(3) == 0) Thread.Sleep(rng.Next(20, 60));
            return client.RunAsync(round, epoch, committed).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        }, committed: () => loader.CommittedOffset = store.NextOffset);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), actors);
        loader.CommittedOffset = store.NextOffset;

        _output.WriteLine($"{loader.Loads} loads ({loader.Failures} failed and retried) for {store.Rows.Count} users");
        Assert.True(loader.Failures > 0, "some loads should have failed and been retried");
        Assert.True(loader.Loads > store.Rows.Count + loader.Failures, "some users should have passivated and reloaded their committed state");
    }

    [Fact]
    public async Task Rounds_RacingPassivation_AreBouncedToTheNextIncarnation_AndLoseNothing()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(6, 6_000);
        var (ends, _) = RoundsScenario.Batching(log.Count, 40, 6);
        var checkpoints = Enumerable.Range(0, ends.Count).ToHashSet();   // every user is clean after every round
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.FromMilliseconds(4));
        var client = new UserRoundClient(Sys, region, retryDelay: TimeSpan.FromMilliseconds(5));
        var rng = new Random(6);
        var bouncedBefore = UserActor.RoundsBounced;

        var actors = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, (round, _, committed) =>
        {
            Thread.Sleep(rng.Next(0, 8));   // around the idle timeout: rounds meet actors that are just passivating
            return client.RunAsync(round, 7, committed).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        }, committed: () => loader.CommittedOffset = store.NextOffset);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), actors);
        _output.WriteLine($"{UserActor.RoundsBounced - bouncedBefore} rounds bounced, {loader.Loads} loads for {store.Rows.Count} users");
        Assert.True(loader.Loads > 3 * store.Rows.Count, "users should have passivated and reloaded many times");
    }

    /// <summary>Stands in for the shard: creates the actor as its child, reports its Passivate, and stops it on demand.</summary>
    private sealed class FakeShard : ReceiveActor
    {
        public FakeShard(Props child, IActorRef reportTo)
        {
            var user = Context.ActorOf(child, "u");
            Receive<Passivate>(p => reportTo.Tell(p));
            Receive<StopUser>(s => user.Tell(s));
            Receive<UserRound>(r => user.Forward(r));
        }
    }

    [Fact]
    public async Task UserActor_RoundArrivingWhilePassivating_GoesBackToTheRegionUnprocessed()
    {
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var shard = CreateTestProbe();
        var region = CreateTestProbe();
        var options = RoundsScenario.Options(null);
        var settings = new UserActorSettings(new UserProcessor(options, RoundsScenario.Catalog), null, loader, TimeSpan.FromMilliseconds(100), _ => region.Ref);
        var fake = Sys.ActorOf(Props.Create(() => new FakeShard(UserActor.Props("u", settings), shard.Ref)));
        var rounds = new PartitionRounds(0, options, experiments: false);
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        var first = rounds.Plan([Click(0, "u", t0)], checkpoint: true);
        fake.Tell(new UserRound(0, 1, null, first.Work[0]), TestActor);
        var answer = ExpectMsg<UserRoundResult>().Result;
        Assert.NotNull(answer.Write);                                     // its state was taken: clean
        rounds.Complete(first, [answer]);
        Assert.IsType<StopUser>(shard.ExpectMsg<Passivate>(TimeSpan.FromSeconds(3)).StopMessage);

        // The shard has not stopped it yet, and a round was already on its way: it must not be applied here.
        var late = new UserRound(0, 1, null, rounds.Plan([Click(1, "u", t0 + 1_000)], checkpoint: false).Work[0]);
        var bouncedBefore = UserActor.RoundsBounced;
        fake.Tell(late, TestActor);
        Assert.Same(late, region.ExpectMsg<UserRound>());
        Assert.Equal(TestActor, region.LastSender);                       // the answer still goes to the partition
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(bouncedBefore + 1, UserActor.RoundsBounced);

        var user = await Sys.ActorSelection(fake.Path / "u").ResolveOne(TimeSpan.FromSeconds(3));
        Watch(user);
        fake.Tell(StopUser.Instance);
        ExpectTerminated(user);
        Assert.Equal(1, loader.Loads);
    }

    [Fact]
    public void UserActor_CleanAndIdle_PassivatesOnlyOncePassivateAfterHasPassedSinceItsLastMessage()
    {
        var store = new RoundsScenario.Store();
        var shard = CreateTestProbe();
        var options = RoundsScenario.Options(null);
        var idle = TimeSpan.FromMilliseconds(400);
        var settings = new UserActorSettings(new UserProcessor(options, RoundsScenario.Catalog), null, new MemoryUserStateLoader(store), idle, _ => CreateTestProbe().Ref);
        var fake = Sys.ActorOf(Props.Create(() => new FakeShard(UserActor.Props("u", settings), shard.Ref)));
        var rounds = new PartitionRounds(0, options, experiments: false);
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var first = rounds.Plan([Click(0, "u", t0)], checkpoint: true);
        fake.Tell(new UserRound(0, 1, null, first.Work[0]), TestActor);
        Assert.NotNull(ExpectMsg<UserRoundResult>().Result.Write);       // clean from here on

        // Asked every 100 ms for 1.2 s, three times its idle time: every message postpones the passivation.
        var user = Sys.ActorSelection(fake.Path / "u").ResolveOne(TimeSpan.FromSeconds(3)).GetAwaiter().GetResult();
        var sinceLast = new System.Diagnostics.Stopwatch();
        for (var i = 0; i < 12; i++)
        {
            user.Tell(new GetUserState(0, "u"), TestActor);
            Assert.True(ExpectMsg<UserStateReply>().Resident);
            sinceLast.Restart();                                          // the actor stamped the ask before it answered
            shard.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        }
        Assert.IsType<StopUser>(shard.ExpectMsg<Passivate>(TimeSpan.FromSeconds(3)).StopMessage);
        _output.WriteLine($"passivated {sinceLast.ElapsedMilliseconds} ms after its last message");
        Assert.InRange(sinceLast.Elapsed, idle - TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(3));   // 20 ms: the clock's tick
    }

    [Fact]
    public async Task UserActor_DirtyWhenIdle_DoesNotPassivate_AndANewEpochReloadsFromTheStore()
    {
        var options = RoundsScenario.Options(null);
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.FromMilliseconds(50));
        var client = new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(10));
        var rounds = new PartitionRounds(0, options, experiments: false);
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        async Task<UserWorkResult> Send(long offset, long epoch, bool checkpoint)
        {
            var round = rounds.Plan([Click(offset, "u", t0 + offset * 1_000)], checkpoint);
            var results = await client.RunAsync(round, epoch, loader.CommittedOffset).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Null(rounds.Complete(round, results).Poison);
            return results.Single(r => r.Key == "u");
        }

        await Send(0, epoch: 1, checkpoint: false);
        Assert.Equal(1, loader.Loads);
        await Task.Delay(250);                         // five idle timeouts, but its state is not in the store
        var second = await Send(1, epoch: 1, checkpoint: false);
        Assert.Equal(1, loader.Loads);                 // still the same incarnation: no reload
        Assert.True(second.Dirty);

        // A new epoch (the partition restarted from its checkpoint): the actor drops what it holds and reloads.
        rounds.Restore(null, []);
        await Send(2, epoch: 2, checkpoint: false);
        Assert.Equal(2, loader.Loads);
        loader.CommittedOffset = 99;                   // another owner moved the partition on: loads are fenced
        var loads = loader.Loads;
        rounds.Restore(null, []);                      // epoch 3: this partition restarts too, expecting offset 3
        var fenced = await Assert.ThrowsAsync<UserRoundFailedException>(() =>
            client.RunAsync(rounds.Plan([Click(3, "u", t0 + 3_000)], false), epoch: 3, expectedNextOffset: 3).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UserRoundRefusal.Fenced, fenced.Refusal.Reason);   // the partition learns it lost ownership; no retry loop
        Assert.Equal(loads + 1, loader.Loads);
    }

    [Fact]
    public async Task UserActor_RoundOfAnOlderEpoch_IsRefusedAsStale_AndTheNewerStateIsKept()
    {
        var options = RoundsScenario.Options(null);
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.Zero);
        var client = new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(10));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var newer = new PartitionRounds(0, options, experiments: false);
        var older = new PartitionRounds(0, options, experiments: false);
        var reference = new UserWorker("u", new UserProcessor(options, RoundsScenario.Catalog), null);

        var first = newer.Plan([Click(0, "u", t0), Click(1, "u", t0 + 1_000)], checkpoint: false);
        newer.Complete(first, await client.RunAsync(first, epoch: 20, null).WaitAsync(TimeSpan.FromSeconds(10)));
        reference.Run(first.Work[0]);

        // A round of the superseded incarnation (epoch 19), still in flight when the partition moved on.
        var stale = older.Plan([Click(0, "u", t0)], checkpoint: true);
        var refused = await Assert.ThrowsAsync<UserRoundFailedException>(() => client.RunAsync(stale, epoch: 19, null).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UserRoundRefusal.Stale, refused.Refusal.Reason);

        // The newer epoch goes on from the state it had, unreloaded: its checkpoint holds both rounds.
        var second = newer.Plan([Click(2, "u", t0 + 2_000)], checkpoint: true);
        var write = (await client.RunAsync(second, epoch: 20, null).WaitAsync(TimeSpan.FromSeconds(10))).Single().Write;
        Assert.Equal(1, loader.Loads);
        Assert.Equal(Convert.ToHexString(reference.Run(second.Work[0]).Write!.State!), Convert.ToHexString(write!.State!));
    }

    [Fact]
    public async Task UserActor_UnreadableStoredState_FailsTheRound_AndLoadsAgainOnTheNext()
    {
        var options = RoundsScenario.Options(null);
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.Zero);
        var client = new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(10));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        store.Rows["u"] = [0xde, 0xad, 0xbe, 0xef];

        var rounds = new PartitionRounds(0, options, experiments: false);
        var round = rounds.Plan([Click(0, "u", t0)], checkpoint: false);
        var failed = await Assert.ThrowsAsync<UserRoundFailedException>(() => client.RunAsync(round, epoch: 1, null).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UserRoundRefusal.Failed, failed.Refusal.Reason);
        Assert.Contains("stored state not readable", failed.Refusal.Error);
        rounds.Abandon(round, failed.Message);

        store.Rows.Remove("u");   // repaired: the actor holds nothing from the failed load and reads the store again
        rounds.Restore(null, []);
        var again = rounds.Plan([Click(0, "u", t0)], checkpoint: true);
        var result = (await client.RunAsync(again, epoch: 2, null).WaitAsync(TimeSpan.FromSeconds(10))).Single();
        Assert.NotNull(result.Write?.State);
        Assert.Equal(2, loader.Loads);
    }

    [Fact]
    public async Task RunAsync_UnavailableThenCancelled_SendsNoMoreRetries_AndAnUnansweredRoundTimesOut()
    {
        var region = CreateTestProbe();
        var options = RoundsScenario.Options(null);
        // 2 s of silence before a round counts as lost: long against this test's steps even on a loaded machine (with 700 ms
        // a CI run once saw the first round time out between two of them).
        var client = new UserRoundClient(Sys, region.Ref, retryDelay: TimeSpan.FromMilliseconds(100), roundTimeout: TimeSpan.FromSeconds(2));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var rounds = new PartitionRounds(0, options, experiments: false);
        var round = rounds.Plan([Click(0, "u", t0)], checkpoint: false);

        using var stop = new CancellationTokenSource();
        var cancelled = client.RunAsync(round, 1, null, stop.Token);
        var sent = region.ExpectMsg<UserRound>();
        region.LastSender.Tell(new UserRoundFailed(0, 1, "u", UserRoundRefusal.Unavailable, "store down"));
        Assert.Equal(sent.Work, region.ExpectMsg<UserRound>(TimeSpan.FromSeconds(3)).Work);   // re-sent after the delay
        region.LastSender.Tell(new UserRoundFailed(0, 1, "u", UserRoundRefusal.Unavailable, "store down"));
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(400));                                    // the pending retry died with the round

        var unanswered = client.RunAsync(round, 2, null);
        region.ExpectMsg<UserRound>();
        var timeout = await Assert.ThrowsAsync<UserRoundLostException>(() => unanswered.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("1 of 1 users silent", timeout.Message);
    }

    [Fact]
    public async Task RunAsync_UsersThatKeepAnswering_AreNotTimedOut_AndRetriesBackOffAndAreReportedOncePerAttempt()
    {
        var region = CreateTestProbe();
        var client = new UserRoundClient(Sys, region.Ref, retryDelay: TimeSpan.FromMilliseconds(100), roundTimeout: TimeSpan.FromMilliseconds(1_500),
            maxRetryDelay: TimeSpan.FromMilliseconds(300));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var round = new PartitionRounds(0, RoundsScenario.Options(null), experiments: false).Plan([Click(0, "u", t0), Click(1, "v", t0)], checkpoint: false);
        var waiting = new ConcurrentQueue<(string Key, int Attempt)>();
        var answer = client.RunAsync(round, 1, null, waiting: (f, attempt) => waiting.Enqueue((f.Key, attempt)));
        var sent = new[] { region.ExpectMsg<UserRound>(), region.ExpectMsg<UserRound>() };
        var collector = region.LastSender;
        // Both users' stores are down for 4 s, over twice the round's silence timeout: each refusal is an answer.
        var started = DateTime.UtcNow;
        var gaps = new List<TimeSpan>();
        var last = DateTime.UtcNow;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(4))
        {
            foreach (var work in sent) collector.Tell(new UserRoundFailed(0, 1, work.Work.Key, UserRoundRefusal.Unavailable, "store down"));
            sent = [region.ExpectMsg<UserRound>(TimeSpan.FromSeconds(2)), region.ExpectMsg<UserRound>(TimeSpan.FromSeconds(2))];
            gaps.Add(DateTime.UtcNow - last);
            last = DateTime.UtcNow;
        }
        Assert.False(answer.IsCompleted, $"the round should still wait: {answer.Exception?.GetBaseException().Message}");
        // 100, 200, 300, 300 … ms: doubling, then capped (uncapped the later gaps would be 400, 800, 1,600 …). Lower bounds
        // are exact (a re-send never comes early); the cap is judged by the median, so one stall of the machine passes.
        Assert.True(gaps[0].TotalMilliseconds >= 80, $"{gaps[0]}");
        Assert.True(gaps[1].TotalMilliseconds >= 180, $"{gaps[1]}");
        Assert.All(gaps.Skip(2), g => Assert.True(g.TotalMilliseconds >= 280, $"{g}"));
        var later = gaps.Skip(2).Select(g => g.TotalMilliseconds).Order().ToList();
        Assert.True(later.Count >= 5 && later[later.Count / 2] < 550, $"re-sends should be capped at 300 ms: {string.Join(", ", later.Select(g => $"{g:F0}"))}");
        // One report per attempt, whichever user reached it first.
        Assert.Equal(Enumerable.Range(1, gaps.Count), waiting.Select(w => w.Attempt));

        var processor = new UserProcessor(RoundsScenario.Options(null), RoundsScenario.Catalog);
        foreach (var s in sent) collector.Tell(new UserRoundResult(0, 1, new UserWorker(s.Work.Key, processor, null).Run(s.Work)));
        var results = await answer.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["u", "v"], results.Select(r => r.Key));
    }

    [Fact]
    public async Task Rounds_WithPoisonRecords_ThroughUserActors_EqualUserShardRejectingThem()
    {
        var log = RoundsScenario.Log(5, 6_000);
        var (ends, checkpoints) = RoundsScenario.Batching(log.Count, 120, 8);
        var ids = RoundsScenario.PageViewIds(log, every: 400, first: 7, take: 6);
        var options = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(ids) };
        var store = new RoundsScenario.Store();
        var loader = new MemoryUserStateLoader(store);
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.FromMilliseconds(30));
        var client = new UserRoundClient(Sys, region, retryDelay: TimeSpan.FromMilliseconds(10));
        var found = new Dictionary<long, PoisonRecordException>();

        var actors = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, (round, epoch, committed) =>
            client.RunAsync(round, epoch, committed).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult(),
            committed: () => loader.CommittedOffset = store.NextOffset, poisonFound: found);

        _output.WriteLine($"{found.Count} poison records, {loader.Loads} loads");
        Assert.True(found.Count >= 3, $"several of the chosen events should have thrown ({found.Count})");
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, RoundsScenario.Options(null), ends, checkpoints, found), actors);
    }

    [Fact]
    public async Task UserActor_RoundContinuingStateItNeverHeld_IsRefusedAsStateLost_WithoutLoading()
    {
        var options = RoundsScenario.Options(null);
        var loader = new MemoryUserStateLoader(new RoundsScenario.Store());
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.Zero);
        var client = new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(10));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var round = new PartitionRounds(0, options, experiments: false).Plan([Click(0, "u", t0)], checkpoint: false);

        // The partition holds "u" changed since its checkpoint, but this incarnation never held that state (the one
        // that did was handed off or crashed): answering from the store's older row would lose it silently.
        var continuing = new PartitionRound(0, round.Records, [round.Work[0] with { Continues = true }], [], false, 0);
        var lost = await Assert.ThrowsAsync<UserRoundFailedException>(() => client.RunAsync(continuing, 1, null).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UserRoundRefusal.StateLost, lost.Refusal.Reason);
        Assert.Equal(0, loader.Loads);

        // The partition's answer: a new epoch from its checkpoint, where nothing continues.
        Assert.NotNull((await client.RunAsync(round, 2, null).WaitAsync(TimeSpan.FromSeconds(10))).Single());
        Assert.Equal(1, loader.Loads);
    }

    [Fact]
    public async Task GetUserState_ThroughTheRegion_AnswersTheUnsavedStateHeld_AndNeverLoads()
    {
        var options = RoundsScenario.Options(null);
        var loader = new MemoryUserStateLoader(new RoundsScenario.Store());
        var region = await StartRegionAsync(options, loader, passivateAfter: TimeSpan.Zero);
        var client = new UserRoundClient(Sys, region, TimeSpan.FromMilliseconds(10));
        var query = new UserStateQuery(region, TimeSpan.FromSeconds(5));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var rounds = new PartitionRounds(0, options, experiments: false);
        var round = rounds.Plan([Click(0, "u", t0), Click(1, "u", t0 + 2_000)], checkpoint: false);
        rounds.Complete(round, await client.RunAsync(round, 1, null).WaitAsync(TimeSpan.FromSeconds(10)));
        var reference = new UserWorker("u", new UserProcessor(options, RoundsScenario.Catalog), null);
        reference.Run(round.Work[0]);

        var held = await query.AskAsync(0, "u");
        Assert.True(held.Resident);
        Assert.Equal(Convert.ToHexString(reference.Snapshot()!), Convert.ToHexString(held.State!));   // not yet in any checkpoint
        var unknown = await query.AskAsync(0, "nobody");
        Assert.False(unknown.Resident);
        Assert.Equal(1, loader.Loads);                                                               // "u" once; the asks loaded nothing
    }

    private static InputRecord Click(long offset, string user, long ts) => new("clickstream", 0, offset, Encoding.UTF8.GetBytes(user),
        Encoding.UTF8.GetBytes($$"""{"event_id":"e{{offset}}","user_id":"{{user}}","type":"click","ts":{{ts}}}"""), ts);
}
