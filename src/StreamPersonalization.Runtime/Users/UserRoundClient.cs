using Akka.Actor;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// Sends one partition round to its users through the <c>user</c> region and gathers their answers. Work refused as
/// <see cref="UserRoundRefusal.Unavailable"/> (the store did not answer; it applied nothing) is sent again after a
/// back-off per user: <c>retryDelay</c> doubling up to <c>maxRetryDelay</c>. Any other refusal fails the round with a
/// <see cref="UserRoundFailedException"/>; a round that hears nothing from its users for <c>roundTimeout</c> fails with
/// a <see cref="UserRoundLostException"/> (the shard region drops messages it buffered for a shard being handed off).
/// Either way the partition must start a new incarnation from its checkpoint.
/// </summary>
public sealed class UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay, TimeSpan roundTimeout, TimeSpan maxRetryDelay) : Partitions.IUserRounds
{
    public UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay, TimeSpan roundTimeout) : this(system, region, retryDelay, roundTimeout, retryDelay) { }

    public UserRoundClient(ActorSystem system, IActorRef region, TimeSpan retryDelay) : this(system, region, retryDelay, TimeSpan.FromMinutes(1)) { }

    /// <summary>Every user's result, in the round's work order; cancelled by <paramref name="ct"/>.</summary>
    public Task<UserWorkResult[]> RunAsync(PartitionRound round, long epoch, long? expectedNextOffset, CancellationToken ct = default,
        Action<UserRoundFailed, int>? waiting = null)
    {
        var done = new TaskCompletionSource<UserWorkResult[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (round.Work.Count == 0) { done.SetResult([]); return done.Task; }
        if (ct.IsCancellationRequested) { done.SetCanceled(ct); return done.Task; }
        var backoff = (retryDelay, maxRetryDelay < retryDelay ? retryDelay : maxRetryDelay);
        var collector = system.ActorOf(Props.Create(() => new RoundCollector(region, round, epoch, expectedNextOffset, backoff, roundTimeout, done, waiting)));
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
        private int[]? _attempts;   // per user: refusals as Unavailable so far (made at the first one)
        private int _waitingAttempt;   // the highest attempt reported to `waiting`
        private long _heard;           // Environment.TickCount64 of the last answer (or of the start)

        public RoundCollector(IActorRef region, PartitionRound round, long epoch, long? expected, (TimeSpan First, TimeSpan Max) backoff, TimeSpan timeout,
            TaskCompletionSource<UserWorkResult[]> done, Action<UserRoundFailed, int>? waiting)
        {
            _results = new UserWorkResult?[round.Work.Count];
            _missing = round.Work.Count;
            for (var i = 0; i < round.Work.Count; i++) _index[round.Work[i].Key] = i;
            Receive<UserRoundResult>(r => r.Epoch == epoch, r =>
            {
                _heard = Environment.TickCount64;   // an answer: the round is alive
                if (!_index.TryGetValue(r.Result.Key, out var i) || _results[i] is not null) return;   // not ours, or a late repeat
                _results[i] = r.Result;
                if (--_missing > 0) return;
                done.TrySetResult(_results!);
                Context.Stop(Self);
            });
            Receive<UserRoundFailed>(f => f.Epoch == epoch, f =>
            {
                _heard = Environment.TickCount64;
                if (!_index.TryGetValue(f.Key, out var i) || _results[i] is not null) return;
                if (f.Reason == UserRoundRefusal.Unavailable)
                {
                    var attempt = ++(_attempts ??= new int[_results.Length])[i];
                    var delay = TimeSpan.FromTicks(Math.Min(backoff.Max.Ticks, backoff.First.Ticks << Math.Min(attempt - 1, 20)));
                    Timers.StartSingleTimer(i, new Resend(i), delay);   // timers die with the collector
                    if (attempt > _waitingAttempt) { _waitingAttempt = attempt; waiting?.Invoke(f, attempt); }
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
                if (Environment.TickCount64 - _heard < (long)timeout.TotalMilliseconds) return;
                var waiting = _index.Where(kv => _results[kv.Value] is null).Select(kv => kv.Key).Take(5);
                done.TrySetException(new UserRoundLostException(
                    $"Round of partition {round.Partition} (epoch {epoch:x}): {_missing} of {round.Work.Count} users silent for {timeout}: {string.Join(", ", waiting)}…"));
                Context.Stop(Self);
            });
            _start = () =>
            {
                _heard = Environment.TickCount64;
                Timers.StartPeriodicTimer(Deadline.Instance, Deadline.Instance, TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, timeout.Ticks / 4)));
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

/// <summary>A user of a round could not read its state (the store did not answer); the round waits and retries.</summary>
public sealed class UserStateUnavailableException(UserRoundFailed refusal)
    : Exception($"User {refusal.Key} of partition {refusal.Partition}: state not readable ({refusal.Error})")
{
    public UserRoundFailed Refusal => refusal;
}

/// <summary>Users of a round did not answer (their messages were dropped, e.g. by a shard hand-off, or their node is
/// gone): nothing of the round was published; the partition replays from its checkpoint.</summary>
public sealed class UserRoundLostException(string message) : TimeoutException(message);
