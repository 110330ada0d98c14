using Akka.Actor;
using Akka.Cluster;

namespace StreamPersonalization.Runtime.Cluster;

/// <summary>
/// Reports every membership and reachability change this node observes as one line, e.g.
/// <c>cluster: akka.tcp://sp@10.0.0.8:4053 is Up (3 members, 0 unreachable)</c>, so an SRE reads the cluster's history
/// in any node's log (joins, leaves, a node the failure detector lost, the split-brain resolver's downing).
/// </summary>
public sealed class MembershipLogActor : ReceiveActor
{
    public const string Name = "sp-membership-log";

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    // Counted from the events themselves, so each line states the membership right after its own change.
    private readonly HashSet<Address> _members = [];
    private readonly HashSet<Address> _unreachable = [];

    public MembershipLogActor(Action<string> report)
    {
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            _members.UnionWith(s.Members.Select(m => m.Address));
            _unreachable.UnionWith(s.Unreachable.Select(m => m.Address));
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (e is ClusterEvent.MemberRemoved) { _members.Remove(e.Member.Address); _unreachable.Remove(e.Member.Address); }
            else _members.Add(e.Member.Address);
            report(Describe(e.Member.Address, Change(e)));
        });
        Receive<ClusterEvent.UnreachableMember>(e => { _unreachable.Add(e.Member.Address); report(Describe(e.Member.Address, "unreachable")); });
        Receive<ClusterEvent.ReachableMember>(e => { _unreachable.Remove(e.Member.Address); report(Describe(e.Member.Address, "reachable again")); });
    }

    private static string Change(ClusterEvent.IMemberEvent e) => e switch
    {
        ClusterEvent.MemberJoined => "joining",
        ClusterEvent.MemberWeaklyUp => "WeaklyUp",
        ClusterEvent.MemberUp => "Up",
        ClusterEvent.MemberLeft => "leaving",
        ClusterEvent.MemberExited => "exiting",
        ClusterEvent.MemberDowned => "downed",
        ClusterEvent.MemberRemoved r => $"removed (was {r.PreviousStatus})",
        _ => e.Member.Status.ToString(),
    };

    private string Describe(Address address, string change)
    {
        var self = address == _cluster.SelfAddress ? " (this node)" : "";
        return $"cluster: {address}{self} is {change} ({_members.Count} members, {_unreachable.Count} unreachable)";
    }

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    public static Props Props(Action<string> report) => Akka.Actor.Props.Create(() => new MembershipLogActor(report));
}
