using Akka.Actor;
using Akka.Serialization;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Runtime.Serialization;

/// <summary>
/// Binary form of every <see cref="IRuntimeMessage"/>: a string manifest names the type and its format version
/// ("<c>NodeStatus/1</c>"), the payload is written with <see cref="BinaryWriter"/>. A manifest this build does not know
/// fails loudly (<see cref="System.Runtime.Serialization.SerializationException"/>) rather than being misread. Registered in <c>hocon/akka.conf</c>
/// with identifier 4711.
/// </summary>
public sealed class RuntimeMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4711;

    private const string GetNodeStatusManifest = "GetNodeStatus/1";
    private const string NodeStatusManifest = "NodeStatus/1";
    private const string UserRoundManifest = "UserRound/2";   // 2: carries UserWork.Continues
    private const string UserRoundResultManifest = "UserRoundResult/1";
    private const string UserRoundFailedManifest = "UserRoundFailed/2";   // 2: carries the refusal reason
    private const string StopUserManifest = "StopUser/1";
    private const string GetUserStateManifest = "GetUserState/1";
    private const string UserStateReplyManifest = "UserStateReply/1";

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        GetNodeStatus => GetNodeStatusManifest,
        NodeStatus => NodeStatusManifest,
        UserRound => UserRoundManifest,
        UserRoundResult => UserRoundResultManifest,
        UserRoundFailed => UserRoundFailedManifest,
        StopUser => StopUserManifest,
        GetUserState => GetUserStateManifest,
        UserStateReply => UserStateReplyManifest,
        _ => throw new ArgumentException($"{nameof(RuntimeMessageSerializer)} has no format for {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            switch (obj)
            {
                case GetNodeStatus:
                    break;
                case NodeStatus s:
                    w.Write(s.Address);
                    w.Write(s.NodeId);
                    w.Write(s.Ready);
                    w.Write(s.Partitions.Count);
                    foreach (var p in s.Partitions) w.Write(p);
                    w.Write(s.ResidentEntities);
                    break;
                case UserRound round:
                    UserRoundCodec.Write(w, round);
                    break;
                case UserRoundResult result:
                    UserRoundCodec.Write(w, result);
                    break;
                case UserRoundFailed failed:
                    UserRoundCodec.Write(w, failed);
                    break;
                case StopUser:
                    break;
                case GetUserState g:
                    w.Write(g.Partition);
                    w.Write(g.Key);
                    break;
                case UserStateReply s:
                    w.Write(s.Key);
                    w.Write(s.Resident);
                    w.Write(s.State is null ? -1 : s.State.Length);
                    if (s.State is not null) w.Write(s.State);
                    break;
                default:
                    throw new ArgumentException($"{nameof(RuntimeMessageSerializer)} has no format for {obj.GetType()}", nameof(obj));
            }
        }
        return ms.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return manifest switch
        {
            GetNodeStatusManifest => GetNodeStatus.Instance,
            NodeStatusManifest => ReadNodeStatus(r),
            UserRoundManifest => UserRoundCodec.ReadRound(r),
            UserRoundResultManifest => UserRoundCodec.ReadResult(r),
            UserRoundFailedManifest => UserRoundCodec.ReadFailed(r),
            StopUserManifest => StopUser.Instance,
            GetUserStateManifest => new GetUserState(r.ReadInt32(), r.ReadString()),
            UserStateReplyManifest => ReadStateReply(r),
            _ => throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}' for {nameof(RuntimeMessageSerializer)} (a newer node's message?)"),
        };
    }

    private static UserStateReply ReadStateReply(BinaryReader r)
    {
        var key = r.ReadString();
        var resident = r.ReadBoolean();
        var length = r.ReadInt32();
        if (length < -1) throw new InvalidDataException($"UserStateReply for {key} has length {length}.");
        return new UserStateReply(key, resident, length < 0 ? null : r.ReadBytes(length));
    }

    private static NodeStatus ReadNodeStatus(BinaryReader r)
    {
        var address = r.ReadString();
        var nodeId = r.ReadString();
        var ready = r.ReadBoolean();
        var partitions = new int[r.ReadInt32()];
        for (var i = 0; i < partitions.Length; i++) partitions[i] = r.ReadInt32();
        return new NodeStatus(address, nodeId, ready, partitions, r.ReadInt64());
    }
}
