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

/// <summary>The user actor could not load its state for the round (store unavailable, fenced, corrupt); nothing was applied: send the round again.</summary>
public sealed record UserRoundFailed(int Partition, long Epoch, string Key, string Error) : IRuntimeMessage
{
    public override string ToString() => $"UserRoundFailed(p{Partition} epoch {Epoch:x} {Key}: {Error})";
}

/// <summary>The shard's stop message for a user actor (passivation and hand-off).</summary>
public sealed class StopUser : IRuntimeMessage
{
    public static readonly StopUser Instance = new();

    private StopUser() { }

    public override string ToString() => "StopUser";
}
