using Akka.Actor;
using StreamPersonalization.Runtime.Serialization;

namespace StreamPersonalization.Runtime.Cluster;

/// <summary>Asks a node for its own view of what it runs (sent across nodes by <see cref="ClusterAdmin"/>).</summary>
public sealed record GetNodeStatus : IRuntimeMessage
{
    public static readonly GetNodeStatus Instance = new();

    public override string ToString() => "GetNodeStatus";
}

/// <summary>A node's answer: its id, whether it is ready, the Kafka partitions (= user shards) it owns and the user
/// entities it holds in memory.</summary>
public sealed record NodeStatus(string Address, string NodeId, bool Ready, IReadOnlyList<int> Partitions, long ResidentEntities) : IRuntimeMessage
{
    public bool Equals(NodeStatus? other) =>
        other is not null && Address == other.Address && NodeId == other.NodeId && Ready == other.Ready &&
        Partitions.SequenceEqual(other.Partitions) && ResidentEntities == other.ResidentEntities;

    public override int GetHashCode() => HashCode.Combine(Address, NodeId, Ready, Partitions.Count, ResidentEntities);

    public override string ToString() =>
        $"NodeStatus({NodeId} at {Address}, ready={Ready}, partitions=[{string.Join(",", Partitions)}], entities={ResidentEntities})";
}

/// <summary>What a node reports about itself; supplied by the node that hosts the runtime.</summary>
/// <param name="Ready">Readiness as <c>/readyz</c> computes it.</param>
/// <param name="Partitions">Owned partitions, ascending.</param>
/// <param name="ResidentEntities">User entities in memory.</param>
public sealed record LocalNodeState(bool Ready, IReadOnlyList<int> Partitions, long ResidentEntities);

/// <summary>
/// One per node at <see cref="Path"/>: answers <see cref="GetNodeStatus"/> from the node's live state. Stateless: it
/// reads <c>state</c> on every ask.
/// </summary>
public sealed class NodeStatusActor : ReceiveActor
{
    public const string Name = "sp-node-status";
    public const string Path = "/user/" + Name;

    public NodeStatusActor(string nodeId, Func<LocalNodeState> state)
    {
        var address = Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();
        Receive<GetNodeStatus>(_ =>
        {
            var s = state();
            Sender.Tell(new NodeStatus(address, nodeId, s.Ready, s.Partitions, s.ResidentEntities));
        });
    }

    public static Props Props(string nodeId, Func<LocalNodeState> state) => Akka.Actor.Props.Create(() => new NodeStatusActor(nodeId, state));
}
