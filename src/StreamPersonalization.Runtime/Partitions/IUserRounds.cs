using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>Where a partition sends its rounds (the seam around the <c>user</c> shard region).</summary>
public interface IUserRounds
{
    /// <summary>Every user's result, in the round's work order. Faults with
    /// <see cref="Users.UserRoundFailedException"/> when a user refused it, <see cref="TimeoutException"/> when
    /// users did not answer; cancelled by <paramref name="ct"/>.</summary>
    /// <param name="waiting">Told (on any thread) when users could not read their state and the round waits to send
    /// them their work again: the refusal, and the attempt that now waits (1, 2, …: once per attempt, not per user).</param>
    Task<UserWorkResult[]> RunAsync(PartitionRound round, long epoch, long? expectedNextOffset, CancellationToken ct = default,
        Action<Users.UserRoundFailed, int>? waiting = null);
}

/// <summary>
/// Epochs name a partition's incarnations (an assignment, a rewind). They only grow, in this process and, within the
/// clock skew of the nodes, across them: a wall-clock tick count, bumped past the last one given out. A user actor
/// refuses a round of an epoch older than one it has seen (<see cref="Users.UserRoundRefusal.Stale"/>); the
/// partition then starts a newer incarnation.
/// </summary>
public static class PartitionEpoch
{
    private static long s_last;

    public static long Next(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow().UtcTicks;
        while (true)
        {
            var last = Interlocked.Read(ref s_last);
            var next = Math.Max(last + 1, now);
            if (Interlocked.CompareExchange(ref s_last, next, last) == last) return next;
        }
    }
}
