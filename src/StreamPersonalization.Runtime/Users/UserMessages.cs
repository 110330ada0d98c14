using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Serialization;

namespace StreamPersonalization.Runtime.Users;

/// <summary>
/// A partition's round for one user actor. <paramref name="Epoch"/> names the partition's incarnation (a new one at
/// every assignment and every rewind): an actor whose state was loaded for another epoch reloads it first, fenced on
/// <paramref name="ExpectedNextOffset"/> (the partition's committed offset), so no incarnation works on another's state.
/// </summary>
public sealed record UserRound(int Partition, long Epoch, long? ExpectedNextOffset, UserWork Work) : IRuntimeMessage
{
    public override string ToString() => $"UserRound(p{Partition} epoch {Epoch:x} at {ExpectedNextOffset?.ToString() ?? "start"}: {Work})";
}

/// <summary>A user actor's answer to a <see cref="UserRound"/>.</summary>
public sealed record UserRoundResult(int Partition, long Epoch, UserWorkResult Result) : IRuntimeMessage
{
    public override string ToString() => $"UserRoundResult(p{Partition} epoch {Epoch:x}: {Result})";
}

/// <summary>
/// The user actor did not run the round. Only <see cref="UserRoundRefusal.Unavailable"/> may be sent again as it is;
/// every other reason means the partition must stop this incarnation (see <see cref="UserRoundRefusal"/>).
/// </summary>
public sealed record UserRoundFailed(int Partition, long Epoch, string Key, UserRoundRefusal Reason, string Error) : IRuntimeMessage
{
    public override string ToString() => $"UserRoundFailed(p{Partition} epoch {Epoch:x} {Key} {Reason}: {Error})";
}

/// <summary>Why a user actor refused a round.</summary>
public enum UserRoundRefusal : byte
{
    /// <summary>The state store did not answer; nothing was applied: send the work again.</summary>
    Unavailable = 0,

    /// <summary>The partition's checkpoint moved past the round's expected offset: another owner has the partition.</summary>
    Fenced = 1,

    /// <summary>The actor already runs a newer epoch of the partition: this round comes from a superseded incarnation.</summary>
    Stale = 2,

    /// <summary>The user's state could not be restored or the work threw; the actor dropped its state (the partition rewinds).</summary>
    Failed = 3,

    /// <summary>The work continues state this incarnation never held (the actor was stopped uncheckpointed: a shard
    /// hand-off, a crash); nothing was applied. The partition replays from its checkpoint, the published rounds muted.</summary>
    StateLost = 4,
}

/// <summary>
/// Asks a user's actor, through the region from any node, for the state it holds now (the explanation route). An
/// actor that holds nothing in memory answers <see cref="UserStateReply.Resident"/> false without loading: the caller
/// then reads the committed row.
/// </summary>
/// <param name="Partition">The partition of the user's Kafka key (the shard).</param>
/// <param name="Key">The (pseudonymised) user id (the entity).</param>
public sealed record GetUserState(int Partition, string Key) : IRuntimeMessage
{
    public override string ToString() => $"GetUserState(p{Partition} {Key})";
}

/// <summary>A user actor's answer to <see cref="GetUserState"/>: its serialized state (null: it has none: never seen, erased, deleted).</summary>
public sealed record UserStateReply(string Key, bool Resident, byte[]? State) : IRuntimeMessage
{
    public override string ToString() => $"UserStateReply({Key}, {(Resident ? $"resident, {State?.Length.ToString() ?? "no"} B" : "not resident")})";
}

/// <summary>The shard's stop message for a user actor (passivation and hand-off).</summary>
public sealed class StopUser : IRuntimeMessage
{
    public static readonly StopUser Instance = new();

    private StopUser() { }

    public override string ToString() => "StopUser";
}
