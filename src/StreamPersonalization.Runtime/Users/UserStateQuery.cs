using Akka.Actor;

namespace StreamPersonalization.Runtime.Users;

/// <summary>Reads a user's current state from its actor through the <c>user</c> region (any node, any user).</summary>
public sealed class UserStateQuery(IActorRef region, TimeSpan timeout)
{
    /// <summary>The actor's answer; <see cref="UserStateReply.Resident"/> false: read the committed row instead.
    /// Throws <see cref="AskTimeoutException"/> when no answer comes within the timeout.</summary>
    public Task<UserStateReply> AskAsync(int partition, string key, CancellationToken ct = default) =>
        region.Ask<UserStateReply>(new GetUserState(partition, key), timeout, ct);
}
