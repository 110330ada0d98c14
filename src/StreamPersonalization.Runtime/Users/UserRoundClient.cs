using Akka.Actor;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// Sends one partition round to its users through the <c>user</c> region and gathers their answers. A user that could
/// not load its state (<see cref="UserRoundFailed"/>) gets its work again after <c>retryDelay</c>: it applied nothing.
/// </summary>
public sealed class UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay)
{
    /// <summary>Every user's result, in the round's work order; cancelled by <paramref name="ct"/>.</summary>
    public Task<UserWorkResult[]> RunAsync(PartitionRound round, long epoch, long? expectedNextOffset, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<UserWorkResult[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (round.Work.Count == 0) { done.SetResult([]); return done.Task; }
        var collector = system.ActorOf(Props.Create(() => new RoundCollector(region, round, epoch, expectedNextOffset, retryDelay, done)));
        if (ct.CanBeCanceled)
            ct.Register(() => { if (done.TrySetCanceled(ct)) collector.Tell(PoisonPill.Instance); });
        return done.Task;
    }

    /// <summary>One round's answers: sends every user its work, re-sends refused work, completes when all are in.</summary>
    private sealed class RoundCollector : ReceiveActor
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly UserWorkResult?[] _results;
        private int _missing;

        public RoundCollector(IActorRef region, PartitionRound round, long epoch, long? expected, TimeSpan retryDelay, TaskCompletionSource<UserWorkResult[]> done)
        {
            _results = new UserWorkResult?[round.Work.Count];
            _missing = round.Work.Count;
            for (var i = 0; i < round.Work.Count; i++) _index[round.Work[i].Key] = i;
            Receive<UserRoundResult>(r => r.Epoch == epoch, r =>
            {
                if (!_index.TryGetValue(r.Result.Key, out var i) || _results[i] is not null) return;   // not ours, or a late repeat
                _results[i] = r.Result;
                if (--_missing > 0) return;
                done.TrySetResult(_results!);
                Context.Stop(Self);
            });
            Receive<UserRoundFailed>(f => f.Epoch == epoch, f =>
            {
                if (_index.TryGetValue(f.Key, out var i) && _results[i] is null)
                    Context.System.Scheduler.ScheduleTellOnce(retryDelay, region, new UserRound(round.Partition, epoch, expected, round.Work[i]), Self);
            });
            foreach (var work in round.Work) region.Tell(new UserRound(round.Partition, epoch, expected, work), Self);
        }
    }
}
