using Akka.Actor;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// Sends one partition round to its users through the <c>user</c> region and gathers their answers. Work refused as
/// <see cref="UserRoundRefusal.Unavailable"/> is sent again after <c>retryDelay</c> (it applied nothing); any other
/// refusal, or a round not answered within <c>roundTimeout</c>, fails the round with a
/// <see cref="UserRoundFailedException"/>, and the partition must start a new incarnation from its checkpoint.
/// </summary>
public sealed class UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay, TimeSpan roundTimeout) : Partitions.IUserRounds
{
    public UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay) : this(system, region, retryDelay, TimeSpan.FromMinutes(1)) { }

    /// <summary>Every user's result, in the round's work order; cancelled by <paramref name="ct"/>.</summary>
    public Task<UserWorkResult[]> RunAsync(PartitionRound round, long epoch, long? expectedNextOffset, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<UserWorkResult[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (round.Work.Count == 0) { done.SetResult([]); return done.Task; }
        if (ct.IsCancellationRequested) { done.SetCanceled(ct); return done.Task; }
        var collector = system.ActorOf(Props.Create(() => new RoundCollector(region, round, epoch, expectedNextOffset, retryDelay, roundTimeout, done)));
        if (!ct.CanBeCanceled) return done.Task;
        var registration = ct.Register(() => { if (done.TrySetCanceled(ct)) collector.Tell(PoisonPill.Instance); });
        done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return done.Task;
    }

    /// <summary>One round's answers: sends every user its work, re-sends refused work, completes when all are in.
    /// Re-sends go through the collector, so none outlives a cancelled or failed round.</summary>
    private sealed class RoundCollector : ReceiveActor, IWithTimers
    {
        private readonly Action _start;
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly UserWorkResult?[] _results;
        private int _missing;

        public RoundCollector(IActorRef region, PartitionRound round, long epoch, long? expected, TimeSpan retryDelay, TimeSpan timeout,
            TaskCompletionSource<UserWorkResult[]> done)
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
                if (!_index.TryGetValue(f.Key, out var i) || _results[i] is not null) return;
                if (f.Reason == UserRoundRefusal.Unavailable)
                {
                    Timers.StartSingleTimer(i, new Resend(i), retryDelay);   // timers die with the collector
                    return;
                }
                done.TrySetException(new UserRoundFailedException(f));
                Context.Stop(Self);
            });
            Receive<Resend>(r =>
            {
                if (_results[r.Index] is null) region.Tell(new UserRound(round.Partition, epoch, expected, round.Work[r.Index]), Self);
            });
            Receive<Deadline>(_ =>
            {
                var waiting = _index.Where(kv => _results[kv.Value] is null).Select(kv => kv.Key).Take(5);
                done.TrySetException(new TimeoutException(
                    $"Round of partition {round.Partition} (epoch {epoch:x}) had {_missing} of {round.Work.Count} users unanswered after {timeout}: {string.Join(", ", waiting)}…"));
                Context.Stop(Self);
            });
            _start = () =>
            {
                Timers.StartSingleTimer(Deadline.Instance, Deadline.Instance, timeout);
                foreach (var work in round.Work) region.Tell(new UserRound(round.Partition, epoch, expected, work), Self);
            };
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => _start();

        private sealed record Resend(int Index);

        private sealed class Deadline
        {
            public static readonly Deadline Instance = new();
        }
    }
}

/// <summary>A user refused its part of a round for a reason other than a store outage (fenced, stale epoch, failed).</summary>
public sealed class UserRoundFailedException(UserRoundFailed refusal)
    : Exception($"User {refusal.Key} of partition {refusal.Partition} refused the round of epoch {refusal.Epoch:x}: {refusal.Reason} ({refusal.Error})")
{
    public UserRoundFailed Refusal => refusal;
}
