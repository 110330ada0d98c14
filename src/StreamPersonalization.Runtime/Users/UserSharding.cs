using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Sharding.External;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// The <c>user</c> entity type: entity id = the (pseudonymised) user id, shard id = the Kafka partition of the user's
/// key. Placement is external: the node that consumes a partition places its shard on itself
/// (<see cref="PlaceAsync"/>), so a user's rounds never cross the network.
/// </summary>
public static class UserSharding
{
    public const string TypeName = "user";

    /// <summary>Starts this node's region for <c>user</c>.</summary>
    public static Task<IActorRef> StartAsync(ActorSystem system, UserActorSettings settings) =>
        ClusterSharding.Get(system).StartAsync(TypeName, key => UserActor.Props(key, settings), ClusterShardingSettings.Create(system),
            new UserMessageExtractor(), new ExternalShardAllocationStrategy(system, TypeName), StopUser.Instance);

    /// <summary>Places partition <paramref name="partition"/>'s shard on <paramref name="node"/> (the consumer that owns the partition).</summary>
    public static Task PlaceAsync(ActorSystem system, int partition, Address node) =>
        ExternalShardAllocation.Get(system).ClientFor(TypeName).UpdateShardLocation(ShardId(partition), node);

    public static string ShardId(int partition) => partition.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Routes <see cref="UserRound"/>s: entity = the user, shard = the round's partition.</summary>
public sealed class UserMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        UserRound r => r.Work.Key,
        GetUserState g => g.Key,
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message switch
    {
        UserRound r => UserSharding.ShardId(r.Partition),
        GetUserState g => UserSharding.ShardId(g.Partition),
        _ => null,
    };

    // StartEntity carries no partition; users are only started by their partition's rounds.
    public string ShardId(string entityId, object? messageHint = null) =>
        messageHint switch
        {
            UserRound r => UserSharding.ShardId(r.Partition),
            GetUserState g => UserSharding.ShardId(g.Partition),
            _ => throw new ArgumentException($"User '{entityId}' can only be reached through its partition's rounds."),
        };
}
