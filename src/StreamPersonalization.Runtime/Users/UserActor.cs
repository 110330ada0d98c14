using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// One user, as a sharded entity (type <c>user</c>): a thin shell around <see cref="UserWorker"/>, which holds the
/// user's engagement, segments, consent and experiment exposures and runs the partition's rounds through the shared
/// <see cref="UserProcessor"/>.
/// <code>
///                 UserRound                state loaded
///   (unloaded) ─────────────▶ Loading ───────────────────▶ Running ◀───────────────────┐
///        ▲                     │                            │ │ │ round of another       │
///        └── load failed: ─────┘                            │ │ │ epoch: reload ─▶ Loading
///            UserRoundFailed                                │ │ └ poison: state dropped ─┘ (next round reloads)
///                                        idle and clean     │ └──── StopUser (hand-off) ─▶ stopped
///                                                           ▼
///                                                      Passivating ── rounds go back to the region: the shard
///                                                           │         buffers them for the next incarnation
///                                                           └ StopUser ─▶ stopped
/// </code>
/// A partition sends a user at most one round at a time and waits for its answer, so a round bounced while
/// passivating cannot overtake another. The actor passivates only when its state has been taken for a checkpoint
/// (the partition commits it before its next round), so the next incarnation loads exactly what this one held.
/// </summary>
public sealed class UserActor : UntypedActor, IWithStash
{
    private readonly UserWorker _worker;
    private readonly IUserStateLoader _loader;
    private readonly Func<ActorSystem, IActorRef> _regionOf;
    private IActorRef? _bounceTo;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long? _loadedEpoch;

    public UserActor(string key, UserActorSettings settings)
    {
        _worker = new UserWorker(key, settings.Processor, settings.Experiments);
        _loader = settings.Loader;
        _regionOf = settings.Region ?? (system => ClusterSharding.Get(system).ShardRegion(UserSharding.TypeName));
        if (settings.PassivateAfter > TimeSpan.Zero) Context.SetReceiveTimeout(settings.PassivateAfter);
    }

    public IStash Stash { get; set; } = null!;

    private static long s_roundsBounced;

    /// <summary>Rounds that reached an actor already passivating and went back to the region (process-wide, for metrics and tests).</summary>
    public static long RoundsBounced => Interlocked.Read(ref s_roundsBounced);

    public static Props Props(string key, UserActorSettings settings) => Akka.Actor.Props.Create(() => new UserActor(key, settings));

    /// <summary>Unloaded: nothing in memory until a round says for which epoch to load.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case UserRound round:
                Load(round);
                break;
            case StopUser:
                Context.Stop(Self);
                break;
            case ReceiveTimeout:
                Passivate();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Load(UserRound round)
    {
        _loadedEpoch = null;
        var sender = Sender;
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
                _worker.Restore(loaded.State);
                _loadedEpoch = loaded.Round.Epoch;
                Become(Running);
                Run(loaded.Round, loaded.ReplyTo);
                Stash.UnstashAll();
                break;
            case StateLoadFailed failed:
                var error = failed.Error.GetBaseException().Message;
                _log.Warning("User {0} of partition {1}: state not loaded ({2}); the partition sends the round again", _worker.Key, failed.Round.Partition, error);
                failed.ReplyTo.Tell(new UserRoundFailed(failed.Round.Partition, failed.Round.Epoch, _worker.Key, error));
                Become(OnReceive);
                Stash.UnstashAll();
                break;
            case ReceiveTimeout:
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
            case UserRound round when round.Epoch != _loadedEpoch:
                Load(round);
                break;
            case UserRound round:
                Run(round, Sender);
                break;
            case ReceiveTimeout:
                Passivate();
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
        var result = _worker.Run(round.Work);
        if (result.Poison is not null)
        {
            _loadedEpoch = null;   // half-changed: the partition rewinds, and the next round reloads
            Become(OnReceive);
        }
        replyTo.Tell(new UserRoundResult(round.Partition, round.Epoch, result));
    }

    private void Passivate()
    {
        if (_worker.DirtySinceCheckpoint) return;   // not in the store yet: stay until a checkpoint takes it
        Context.Parent.Tell(new Passivate(StopUser.Instance));
        Become(Passivating);
    }

    private void Passivating(object message)
    {
        switch (message)
        {
            case UserRound:
                Interlocked.Increment(ref s_roundsBounced);
                // Buffered by the shard while this incarnation stops (the shard got Passivate before this bounce).
                (_bounceTo ??= _regionOf(Context.System)).Forward(message);
                break;
            case StopUser:
                Context.Stop(Self);
                break;
        }
    }

    public override string ToString() => $"UserActor({_worker})";

    private sealed record StateLoaded(UserRound Round, IActorRef ReplyTo, byte[]? State);

    private sealed record StateLoadFailed(UserRound Round, IActorRef ReplyTo, Exception Error);
}

/// <summary>What every user actor of a node shares.</summary>
/// <param name="Processor">The user logic (thread-safe, one per node).</param>
/// <param name="Experiments">The experiment catalog in force, read per event; null: no attribution.</param>
/// <param name="Loader">Reads a user's committed state.</param>
/// <param name="PassivateAfter">Idle time after which a clean actor stops (zero: never).</param>
/// <param name="Region">Where rounds that reach a passivating actor go back to (null: the <c>user</c> shard region).</param>
public sealed record UserActorSettings(UserProcessor Processor, Func<ExperimentCatalog>? Experiments, IUserStateLoader Loader, TimeSpan PassivateAfter,
    Func<ActorSystem, IActorRef>? Region = null);
