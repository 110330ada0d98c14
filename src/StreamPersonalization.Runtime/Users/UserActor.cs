using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// One user, as a sharded entity (type <c>user</c>): a thin shell around <see cref="UserWorker"/>, which holds the
/// user's engagement, segments, consent and experiment exposures and runs the partition's rounds through the shared
/// <see cref="UserProcessor"/>.
/// <code>
///                 UserRound                 state loaded
///   (unloaded) ─────────────▶ Loading ───────────────────▶ Running ◀──────────────────────────┐
///      │ round continuing state no incarnation here held (hand-off, crash): refused (StateLost)  │
///     ▲  ▲                     │                            │ │ │ round of a newer epoch:      │
///     │  └── load failed, ─────┘                            │ │ │ state dropped ─▶ Loading     │
///     │      restore threw:                                 │ │ │ round of an older epoch:     │
///     │      UserRoundFailed                                │ │ │ refused (Stale), state kept ─┘
///     └── poison, work threw: state dropped ────────────────┘ │ └ StopUser (hand-off) ─▶ stopped
///                                        idle and clean       ▼
///                                                       Passivating ── rounds go back to the region: the shard
///                                                           │          buffers them for the next incarnation
///                                                           └ StopUser ─▶ stopped
/// </code>
/// A partition sends a user at most one round at a time and waits for its answer, so a round bounced while
/// passivating cannot overtake another. The actor passivates only when its state has been taken for a checkpoint,
/// and the partition sends no round before that checkpoint is committed, so the next incarnation loads exactly what
/// this one held. Epochs only grow: a round of an epoch older than one this actor has seen comes from a superseded
/// incarnation of the partition and must not touch the newer one's uncommitted state.
/// <para>Idleness is checked lazily, not with a receive timeout: that re-arms a scheduler entry on every message (3 % of
/// the node's CPU in <c>sp bench --only e2e</c>). A message only stamps the time; one pending <see cref="IdleCheck"/>
/// per actor looks at the stamp and either passivates or comes back when the actor would next be idle long enough.</para>
/// </summary>
public sealed class UserActor : UntypedActor, IWithStash
{
    private readonly UserWorker _worker;
    private readonly IUserStateLoader _loader;
    private readonly Func<ActorSystem, IActorRef> _regionOf;
    private IActorRef? _bounceTo;
    private ILoggingAdapter? _log;   // made on first use: an adapter per resident actor would cost hundreds of bytes each
    private long _loadedEpoch = long.MinValue;   // the epoch the state in memory belongs to (Running only)
    private long _newestEpoch = long.MinValue;   // the newest epoch any round has named
    private bool _eventSeen;                     // a round since the load carried events (not only timers or a barrier)
    private (UserRound Round, IActorRef ReplyTo)? _loading;   // the round whose state is being read

    public UserActor(string key, UserActorSettings settings)
    {
        _worker = new UserWorker(key, settings.Processor, settings.Experiments);
        _loader = settings.Loader;
        _regionOf = settings.Region ?? (system => ClusterSharding.Get(system).ShardRegion(UserSharding.TypeName));
        _passivateAfterMs = (long)settings.PassivateAfter.TotalMilliseconds;
        _resident = settings.Resident;
        if (_passivateAfterMs > 0) CheckIdleIn(_passivateAfterMs);
    }

    private readonly long _passivateAfterMs;   // zero: never passivate for idleness
    private long _activeAtMs = Environment.TickCount64;   // when the last message other than an IdleCheck arrived

    private readonly ResidentUsers? _resident;

    protected override void PreStart() => _resident?.Started();

    protected override void PostStop() => _resident?.Stop();

    public IStash Stash { get; set; } = null!;

    private static long s_roundsBounced;

    /// <summary>Rounds that reached an actor already passivating and went back to the region (process-wide, for metrics and tests).</summary>
    public static long RoundsBounced => Interlocked.Read(ref s_roundsBounced);

    private static readonly long[] s_refusals = new long[Enum.GetValues<UserRoundRefusal>().Length];

    /// <summary>Rounds refused for <paramref name="reason"/> by this process's user actors (metrics and tests).</summary>
    public static long Refusals(UserRoundRefusal reason) => Interlocked.Read(ref s_refusals[(int)reason]);

    // A producer, not Props.Create(() => new UserActor(...)): that form builds every actor by reflection from the
    // expression's arguments, 2 % of the node's CPU when a round wakes hundreds of users (sp bench --only e2e profile).
    public static Props Props(string key, UserActorSettings settings) => Akka.Actor.Props.CreateBy(new Producer(key, settings));

    private sealed class Producer(string key, UserActorSettings settings) : IIndirectActorProducer
    {
        public Type ActorType => typeof(UserActor);

        public ActorBase Produce() => new UserActor(key, settings);

        public void Release(ActorBase actor) { }
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is not IdleCheck) _activeAtMs = Environment.TickCount64;
        return base.AroundReceive(receive, message);
    }

    /// <summary>Unloaded: nothing in memory until a round says for which epoch to load.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case UserRound round when round.Epoch < _newestEpoch:
                Refuse(round, Sender, UserRoundRefusal.Stale, $"epoch {_newestEpoch:x} is newer");
                break;
            case UserRound round:
                Load(round);
                break;
            case StopUser:
                Context.Stop(Self);
                break;
            case IdleCheck:
                OnIdleCheck();
                break;
            case GetUserState:
                Sender.Tell(new UserStateReply(_worker.Key, Resident: false, null));
                // Started only to answer (an explanation for a user not in memory, or one never seen): leave at once,
                // or every such ask would keep an actor for PassivateAfter.
                if (_newestEpoch == long.MinValue) Passivate();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Load(UserRound round)
    {
        _worker.Forget();
        _loadedEpoch = long.MinValue;
        _newestEpoch = round.Epoch;
        if (round.Work.Continues)
        {
            // The partition holds this user changed since its checkpoint, in this epoch: that state lived in an
            // incarnation that is gone (hand-off, crash). Loading the store's older row would silently lose it.
            Refuse(round, Sender, UserRoundRefusal.StateLost, "the state this round continues is not in memory (the actor was stopped before its checkpoint)");
            Become(OnReceive);
            return;
        }
        var sender = Sender;
        _loading = (round, sender);
        _loader.LoadAsync(round.Partition, _worker.Key, round.ExpectedNextOffset).PipeTo(Self,
            success: state => new StateLoaded(round, sender, state),
            failure: ex => new StateLoadFailed(round, sender, ex));
        Become(Loading);
    }

    private void Loading(object message)
    {
        switch (message)
        {
            case StateLoaded loaded:
                _loading = null;
                try
                {
                    _worker.Restore(loaded.State);
                }
                catch (Exception e)
                {
                    Drop(loaded.Round, loaded.ReplyTo, UserRoundRefusal.Failed, $"stored state not readable: {e.GetBaseException().Message}");
                    break;
                }
                _loadedEpoch = loaded.Round.Epoch;
                _eventSeen = false;
                Become(Running);
                Run(loaded.Round, loaded.ReplyTo);
                Stash.UnstashAll();
                break;
            case StateLoadFailed failed:
                _loading = null;
                var reason = failed.Error.GetBaseException() is CheckpointConflictException ? UserRoundRefusal.Fenced : UserRoundRefusal.Unavailable;
                Drop(failed.Round, failed.ReplyTo, reason, $"state not loaded: {failed.Error.GetBaseException().Message}");
                break;
            case IdleCheck:
                CheckIdleIn(_passivateAfterMs);   // a load is work in progress: look again later
                break;
            case StopUser:
                // A hand-off does not wait for a load. The round applied nothing: the partition sends it again, and
                // it reaches the next incarnation (the shard buffers it until the move is done).
                if (_loading is var (round, replyTo)) Refuse(round, replyTo, UserRoundRefusal.Unavailable, "handed off while loading");
                Context.Stop(Self);
                break;
            case GetUserState:
                Sender.Tell(new UserStateReply(_worker.Key, Resident: false, null));   // a read does not wait for a load
                break;
            default:
                Stash.Stash();
                break;
        }
    }

    private void Running(object message)
    {
        switch (message)
        {
            case UserRound round when round.Epoch < _newestEpoch:
                Refuse(round, Sender, UserRoundRefusal.Stale, $"epoch {_newestEpoch:x} is newer");
                break;
            case UserRound round when round.Epoch != _loadedEpoch:
                Load(round);
                break;
            case UserRound round:
                Run(round, Sender);
                break;
            case GetUserState:
                Sender.Tell(new UserStateReply(_worker.Key, Resident: true, _worker.Snapshot()));
                break;
            case IdleCheck:
                OnIdleCheck();
                break;
            case StopUser:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Run(UserRound round, IActorRef replyTo)
    {
        UserWorkResult result;
        try
        {
            result = _worker.Run(round.Work);
        }
        catch (Exception e)
        {
            // Not a record's fault (those come back as poison): the state may be half-changed, so it goes.
            Drop(round, replyTo, UserRoundRefusal.Failed, $"round failed: {e.GetBaseException().Message}");
            return;
        }
        if (result.Poison is not null) Become(OnReceive);   // the worker dropped its half-changed state; the partition rewinds
        replyTo.Tell(new UserRoundResult(round.Partition, round.Epoch, result));
        if (round.Work.Events.Count > 0) _eventSeen = true;
        // Woken only by its timers (a UTC day boundary wakes every user with a re-evaluation due): leave as soon as a
        // checkpoint has the state, not PassivateAfter later, so the wake-up of every user does not keep every user in memory.
        else if (result.Poison is null && round.Work.TakeState && !_eventSeen && !_worker.DirtySinceCheckpoint) Passivate();
    }

    /// <summary>Answers with a refusal, forgets the state and goes back to unloaded (the next round reloads).</summary>
    private void Drop(UserRound round, IActorRef replyTo, UserRoundRefusal reason, string error)
    {
        _worker.Forget();
        _loadedEpoch = long.MinValue;
        Refuse(round, replyTo, reason, error);
        Become(OnReceive);
        Stash.UnstashAll();
    }

    private void Refuse(UserRound round, IActorRef replyTo, UserRoundRefusal reason, string error)
    {
        Interlocked.Increment(ref s_refusals[(int)reason]);
        (_log ??= Context.GetLogger()).Warning("User {0} of partition {1}, epoch {2:x}: round refused ({3}: {4})", _worker.Key, round.Partition, round.Epoch, reason, error);
        replyTo.Tell(new UserRoundFailed(round.Partition, round.Epoch, _worker.Key, reason, error));
    }

    /// <returns>False while the state is not in the store yet: the actor stays until a checkpoint takes it.</returns>
    private bool Passivate()
    {
        if (_worker.DirtySinceCheckpoint) return false;
        Context.Parent.Tell(new Passivate(StopUser.Instance));
        Become(Passivating);
        return true;
    }

    private void OnIdleCheck()
    {
        var idleMs = Environment.TickCount64 - _activeAtMs;
        if (idleMs >= _passivateAfterMs && Passivate()) return;
        CheckIdleIn(idleMs >= _passivateAfterMs ? _passivateAfterMs : _passivateAfterMs - idleMs);
    }

    // Not cancellable (nothing to hold per actor): one that arrives after the actor stopped is a suppressed dead letter.
    private void CheckIdleIn(long ms) =>
        Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(ms), Self, IdleCheck.Instance, ActorRefs.NoSender);

    private void Passivating(object message)
    {
        switch (message)
        {
            case UserRound:
                Interlocked.Increment(ref s_roundsBounced);
                // Buffered by the shard while this incarnation stops (the shard got Passivate before this bounce).
                (_bounceTo ??= _regionOf(Context.System)).Forward(message);
                break;
            case GetUserState:
                Sender.Tell(new UserStateReply(_worker.Key, Resident: true, _worker.Snapshot()));   // clean: what the last checkpoint took
                break;
            case StopUser:
                Context.Stop(Self);
                break;
        }
    }

    public override string ToString() => $"UserActor({_worker})";

    /// <summary>Time to see whether the actor has been idle for its passivation time (local only, never sent between nodes).</summary>
    private sealed class IdleCheck : IDeadLetterSuppression
    {
        public static readonly IdleCheck Instance = new();

        public override string ToString() => "IdleCheck";
    }

    private sealed record StateLoaded(UserRound Round, IActorRef ReplyTo, byte[]? State);

    private sealed record StateLoadFailed(UserRound Round, IActorRef ReplyTo, Exception Error);
}

/// <summary>What every user actor of a node shares.</summary>
/// <param name="Processor">The user logic (thread-safe, one per node).</param>
/// <param name="Experiments">The experiment catalog in force, read per event; null: no attribution.</param>
/// <param name="Loader">Reads a user's committed state.</param>
/// <param name="PassivateAfter">Idle time after which a clean actor stops (zero: never).</param>
/// <param name="Region">Where rounds that reach a passivating actor go back to (null: the <c>user</c> shard region).</param>
/// <param name="Resident">Counts this node's live user actors (null: not counted).</param>
public sealed record UserActorSettings(UserProcessor Processor, Func<ExperimentCatalog>? Experiments, IUserStateLoader Loader, TimeSpan PassivateAfter,
    Func<ActorSystem, IActorRef>? Region = null, ResidentUsers? Resident = null);

/// <summary>How many user actors live on a node right now (the cluster view and the demo show it).</summary>
public sealed class ResidentUsers
{
    private long _count;
    private long _stopped;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>User actors stopped on this node so far (passivated, or handed off with their shard).</summary>
    public long Stopped => Interlocked.Read(ref _stopped);

    internal void Started() => Interlocked.Increment(ref _count);

    internal void Stop()
    {
        Interlocked.Decrement(ref _count);
        Interlocked.Increment(ref _stopped);
    }
}
