using Akka.Actor;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Serialization;
using StreamPersonalization.Runtime.Tests.Cluster;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Tests.Rounds;

namespace StreamPersonalization.Runtime.Tests.Serialization;

/// <summary>The user actors' messages with the project's serializer: whole round trips, and a trip between two nodes.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class UserMessageSerializationTests
{
    /// <summary>Real rounds and answers from the scenario log: events of every kind, outputs, experiment operations, duplicates, rows.</summary>
    private static (UserRound Round, UserRoundResult Result)[] Samples()
    {
        var options = RoundsScenario.Options(null);
        var log = RoundsScenario.Log(11, 4_000);
        var rounds = new PartitionRounds(0, options, experiments: true);
        var processor = new UserProcessor(options, RoundsScenario.Catalog);
        var workers = new Dictionary<string, UserWorker>(StringComparer.Ordinal);
        var samples = new List<(UserRound, UserRoundResult)>();
        for (var from = 0; from < log.Count; from += 1_000)
        {
            var round = rounds.Plan(log.GetRange(from, Math.Min(1_000, log.Count - from)), checkpoint: from >= 2_000);
            var results = round.Work.Select(w =>
            {
                if (!workers.TryGetValue(w.Key, out var worker)) workers[w.Key] = worker = new UserWorker(w.Key, processor, () => RoundsScenario.Experiments);
                return worker.Run(w);
            }).ToList();
            rounds.Complete(round, results);
            for (var i = 0; i < results.Count; i++)
                samples.Add((new UserRound(0, 42, from, round.Work[i]), new UserRoundResult(0, 42, results[i])));
        }
        return [.. samples];
    }

    private static byte[] Bytes(ActorSystem system, object message) => system.Serialization.FindSerializerFor(message).ToBinary(message);

    private static object RoundTrip(ActorSystem system, object message)
    {
        var serializer = Assert.IsType<RuntimeMessageSerializer>(system.Serialization.FindSerializerFor(message));
        return serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
    }

    [Fact]
    public async Task UserMessages_RoundTripWhole_AndCrossBetweenTwoNodes()
    {
        var samples = Samples();
        Assert.Contains(samples, s => s.Result.Result.Outputs.OfType<SessionClosedOutput>().Any());
        Assert.Contains(samples, s => s.Round.Work.Continues);
        Assert.Contains(samples, s => s.Result.Result.DeltaOps.Count > 0);
        Assert.Contains(samples, s => s.Result.Result.Duplicates.Count > 0);
        Assert.Contains(samples, s => s.Result.Result.Write?.State is not null);
        Assert.Contains(samples, s => s.Round.Work.Events.Any(e => e.Event.ConsentGranted is not null));

        ActorSystem? a = null, b = null;
        try
        {
            a = await TestNodes.StartAsync("n-a", TestNodes.Config());
            b = await TestNodes.StartAsync("n-b", TestNodes.Config());
            foreach (var (round, result) in samples)
            {
                var back = Assert.IsType<UserRound>(RoundTrip(a, round));
                Assert.Equal(round.Work.Events, back.Work.Events);   // every event field (records compare by value)
                Assert.Equal((round.Partition, round.Epoch, round.ExpectedNextOffset, round.Work.Key, round.Work.WatermarkEndMs, round.Work.TakeState, round.Work.Continues),
                    (back.Partition, back.Epoch, back.ExpectedNextOffset, back.Work.Key, back.Work.WatermarkEndMs, back.Work.TakeState, back.Work.Continues));
                var x = result.Result;
                var y = Assert.IsType<UserRoundResult>(RoundTrip(a, result)).Result;
                Assert.Equal(x.Outputs, y.Outputs);
                Assert.Equal(x.Duplicates, y.Duplicates);
                Assert.Equal(x.ErasedAt, y.ErasedAt);
                Assert.Equal(x.WithdrewAt, y.WithdrewAt);
                Assert.Equal((x.Key, x.ScheduledDueMs, x.Dirty, x.Write?.Key, x.Write?.NextTimerMs), (y.Key, y.ScheduledDueMs, y.Dirty, y.Write?.Key, y.Write?.NextTimerMs));
                Assert.Equal(x.Write?.State, y.Write?.State);
                Assert.Equal(x.DeltaOps.Select(o => $"{o} {o.Exposure} {o.Flag} {o.From} {o.To}"), y.DeltaOps.Select(o => $"{o} {o.Exposure} {o.Flag} {o.From} {o.To}"));
                Assert.Equal(Bytes(a, result), Bytes(a, new UserRoundResult(0, 42, y)));   // and nothing else is lost
            }
            var failed = new UserRoundFailed(3, -7, "u/1", UserRoundRefusal.Unavailable, "store unavailable");
            foreach (var reason in Enum.GetValues<UserRoundRefusal>()) Assert.Equal(failed with { Reason = reason }, RoundTrip(a, failed with { Reason = reason }));
            Assert.Same(StopUser.Instance, RoundTrip(a, StopUser.Instance));
            var ask = new GetUserState(5, "p:0123abcd");
            Assert.Equal(ask, RoundTrip(a, ask));
            var state = samples.Select(s => s.Result.Result.Write?.State).First(s => s is not null)!;
            foreach (var reply in new[] { new UserStateReply("u/1", true, state), new UserStateReply("u/2", true, null), new UserStateReply("u/3", false, null), new UserStateReply("u/4", true, []) })
            {
                var back = Assert.IsType<UserStateReply>(RoundTrip(a, reply));
                Assert.Equal((reply.Key, reply.Resident, reply.State is null), (back.Key, back.Resident, back.State is null));
                Assert.Equal(reply.State, back.State);
            }

            // Over remoting: b sends each message to an echo actor on a, which sends it back.
            a.ActorOf(Props.Create(() => new Echo()), "echo");
            var echo = await b.ActorSelection($"{TestNodes.AddressOf(a)}/user/echo").ResolveOne(TimeSpan.FromSeconds(10));
            foreach (var message in samples.Take(200).SelectMany(s => new object[] { s.Round, s.Result }).Append(failed).Append(ask).Append(new UserStateReply("u/1", true, state)))
            {
                var echoed = await echo.Ask<object>(message, TimeSpan.FromSeconds(10));
                Assert.NotSame(message, echoed);
                Assert.Equal(Bytes(b, message), Bytes(b, echoed));
            }
        }
        finally
        {
            await TestNodes.ShutdownAsync(b, a);
        }
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }
}
