using Akka.Actor;
using Akka.TestKit.Xunit2;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Serialization;
using StreamPersonalization.Runtime.Tests.Cluster;

namespace StreamPersonalization.Runtime.Tests.Serialization;

public sealed class RuntimeMessageSerializerTests() : TestKit(TestNodes.Config())
{
    public static TheoryData<IRuntimeMessage> Messages => new()
    {
        GetNodeStatus.Instance,
        new NodeStatus("akka.tcp://sp@10.0.0.1:4053", "sp-node-0", true, [0, 3, 11], 123_456),
        new NodeStatus("akka.tcp://sp@h:1", "n", false, [], 0),
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void ToBinary_FromBinary_RoundTripsWithAManifest(IRuntimeMessage message)
    {
        var serializer = Assert.IsType<RuntimeMessageSerializer>(Sys.Serialization.FindSerializerFor(message));
        Assert.Equal(RuntimeMessageSerializer.Id, serializer.Identifier);
        var manifest = serializer.Manifest(message);
        Assert.EndsWith("/1", manifest);
        Assert.Equal(message, serializer.FromBinary(serializer.ToBinary(message), manifest));
    }

    [Fact]
    public void FromBinary_UnknownManifest_Throws()
    {
        var serializer = (RuntimeMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(NodeStatus));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "NodeStatus/2"));
    }

    [Fact]
    public void Manifest_OfAnUnregisteredMessage_Throws()
    {
        var serializer = (RuntimeMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(NodeStatus));
        Assert.Throws<ArgumentException>(() => serializer.Manifest(new UnregisteredMessage()));
    }

    [Fact]
    public void NodeStatusActor_AnswersWithTheNodesCurrentState()
    {
        var partitions = new List<int> { 2 };
        var actor = Sys.ActorOf(NodeStatusActor.Props("n-x", () => new LocalNodeState(partitions.Count > 1, partitions.ToArray(), partitions.Count * 10)));
        actor.Tell(GetNodeStatus.Instance, TestActor);
        var first = ExpectMsg<NodeStatus>();
        Assert.Equal(("n-x", false, 10L), (first.NodeId, first.Ready, first.ResidentEntities));
        Assert.Equal([2], first.Partitions);
        partitions.Add(5);
        actor.Tell(GetNodeStatus.Instance, TestActor);
        Assert.Equal([2, 5], ExpectMsg<NodeStatus>().Partitions);   // read on every ask, not cached
    }

    private sealed record UnregisteredMessage : IRuntimeMessage;
}
