using Akka.Actor;
using Akka.Configuration;
using Akka;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Hocon;

namespace StreamPersonalization.Runtime;

/// <summary>
/// A node's ActorSystem in the cluster, with its lifecycle drawn:
/// <code>
///   Starting ──joined──▶ Up ──SIGTERM / ShutdownAsync──▶ Draining ──▶ Leaving ──▶ Exiting ──▶ Terminated
///      │                  │   (CoordinatedShutdown: the       (cluster-leave, (cluster-exiting)
///      │                  │    node's drain tasks first:       shards handed
///      │                  │    streams stop, last checkpoints) off)
///      └── downed by the split-brain resolver (unreachable) ──▶ Terminated
/// </code>
/// Readiness needs <see cref="SelfUp"/>. Everything the node must finish before it leaves (stop consuming, take the
/// last checkpoints) is registered with <see cref="OnDrain"/> and runs in CoordinatedShutdown's
/// <c>before-service-unbind</c> phase, before the shards are handed off and the node leaves the cluster.
/// </summary>
public sealed class NodeRuntime : IAsyncDisposable
{
    private NodeRuntime(ActorSystem system)
    {
        System = system;
        Admin = new ClusterAdmin(system);
    }

    public ActorSystem System { get; }

    public ClusterAdmin Admin { get; }

    /// <summary>This node is a cluster member with status Up.</summary>
    public bool SelfUp => Admin.SelfUp;

    /// <summary>The cluster removed this node (the split-brain resolver downed it while it was unreachable, or an
    /// operator did): CoordinatedShutdown ran for <see cref="CoordinatedShutdown.ClusterDowningReason"/>. The node must
    /// stop; its shards already live on the surviving nodes.</summary>
    public bool Downed => CoordinatedShutdown.Get(System).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;

    /// <summary>The node's remoting address, e.g. <c>akka.tcp://sp@10.0.0.7:4053</c>.</summary>
    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();

    /// <summary>Loads <c>hocon/</c> for <paramref name="options"/> (overrides last), starts the ActorSystem, joins the
    /// cluster and serves <see cref="GetNodeStatus"/> from <paramref name="state"/>.</summary>
    /// <exception cref="HoconConfigurationException">The Akka configuration is invalid (the message names the key).</exception>
    public static async Task<NodeRuntime> StartAsync(AkkaOptions options, string nodeId, Func<LocalNodeState> state,
        IReadOnlyDictionary<string, string>? overrides = null, Action<string>? membership = null)
    {
        var config = AkkaConfigLoader.Load(options, overrides);
        return await StartAsync(options.SystemName, config, nodeId, state, membership).ConfigureAwait(false);
    }

    /// <param name="membership">Called with a one-line description of every membership and reachability change (for the node's log).</param>
    public static async Task<NodeRuntime> StartAsync(string systemName, Config config, string nodeId, Func<LocalNodeState> state,
        Action<string>? membership = null)
    {
        var system = await NodeActorSystem.StartAsync(systemName, config).ConfigureAwait(false);
        system.ActorOf(NodeStatusActor.Props(nodeId, state), NodeStatusActor.Name);
        if (membership is not null) system.ActorOf(MembershipLogActor.Props(membership), MembershipLogActor.Name);
        return new NodeRuntime(system);
    }

    /// <summary>Runs <paramref name="drain"/> when the node shuts down, before it hands off shards and leaves.</summary>
    public void OnDrain(string name, Func<Task> drain) =>
        CoordinatedShutdown.Get(System).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, name, async () =>
        {
            await drain().ConfigureAwait(false);
            return Done.Instance;
        });

    /// <summary>Waits until this node is Up (or <paramref name="ct"/> fires).</summary>
    public async Task WhenUpAsync(CancellationToken ct)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(System).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Runs CoordinatedShutdown (drain tasks, shard hand-off, leave, exit) and waits for the system to
    /// terminate. Idempotent: every caller waits for the same run.</summary>
    public Task ShutdownAsync() => CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);

    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync().ConfigureAwait(false);
        await System.WhenTerminated.ConfigureAwait(false);
    }
}
