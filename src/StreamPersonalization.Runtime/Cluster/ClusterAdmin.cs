using Akka.Actor;
using Akka.Cluster;

namespace StreamPersonalization.Runtime.Cluster;

/// <summary>One cluster member as SREs see it.</summary>
/// <param name="Status">Akka's member status: Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed.</param>
/// <param name="Reachable">False while the failure detector of some member cannot reach it.</param>
/// <param name="Node">The node's own report (null when it did not answer within the timeout).</param>
public sealed record MemberView(string Address, string Status, bool Reachable, bool IsSelf, bool IsLeader, IReadOnlyList<string> Roles, NodeStatus? Node);

/// <summary>The cluster as the answering node sees it: members with status and reachability, and per member the
/// partitions (user shards) it owns.</summary>
public sealed record ClusterView(string Self, string SelfStatus, string? Leader, IReadOnlyList<MemberView> Members)
{
    public override string ToString() => $"ClusterView(self={Self} {SelfStatus}, leader={Leader}, members={Members.Count})";
}

/// <summary>Reads and changes cluster membership for the admin route and the <c>sp cluster</c> verb.</summary>
public sealed class ClusterAdmin(ActorSystem system)
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(system);

    /// <summary>True once this node is a member with status Up.</summary>
    public bool SelfUp => _cluster.SelfMember.Status == MemberStatus.Up;

    /// <summary>Members and, from each reachable one, its <see cref="NodeStatus"/> (asked in parallel).</summary>
    public async Task<ClusterView> ViewAsync(TimeSpan askTimeout, CancellationToken ct = default)
    {
        var state = _cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members.ToList();
        var answers = await Task.WhenAll(members.Select(m => unreachable.Contains(m.Address)
            ? Task.FromResult<NodeStatus?>(null)
            : AskStatusAsync(m.Address, askTimeout, ct))).ConfigureAwait(false);
        var views = members.Zip(answers, (m, node) => new MemberView(m.Address.ToString(), m.Status.ToString(), !unreachable.Contains(m.Address),
            m.Address == _cluster.SelfAddress, m.Address == state.Leader, m.Roles.Order().ToList(), node)).ToList();
        return new ClusterView(_cluster.SelfAddress.ToString(), _cluster.SelfMember.Status.ToString(), state.Leader?.ToString(), views);
    }

    private async Task<NodeStatus?> AskStatusAsync(Address address, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            var selection = system.ActorSelection(new RootActorPath(address) / "user" / NodeStatusActor.Name);
            return await selection.Ask<NodeStatus>(GetNodeStatus.Instance, timeout, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Asks the member at <paramref name="address"/> to leave gracefully (it hands off its shards and stops).</summary>
    /// <returns>False when no current member has that address.</returns>
    public bool Leave(string address)
    {
        var member = _cluster.State.Members.FirstOrDefault(m => m.Address.ToString() == address);
        if (member is null) return false;
        _cluster.Leave(member.Address);
        return true;
    }
}
