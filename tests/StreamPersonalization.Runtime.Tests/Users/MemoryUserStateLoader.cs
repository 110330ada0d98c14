using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Tests.Rounds;

namespace StreamPersonalization.Runtime.Tests.Users;

/// <summary>Committed rows of a <see cref="RoundsScenario.Store"/>, fenced like the real store, with loads that can be made to fail.</summary>
internal sealed class MemoryUserStateLoader(RoundsScenario.Store store) : IUserStateLoader
{
    private readonly Random _rng = new(7);
    private int _loads, _failures;

    /// <summary>The partition's committed next offset (null: no checkpoint yet); loads expecting another are fenced.</summary>
    public long? CommittedOffset { get; set; }

    /// <summary>Share of loads that fail as if the store were down (0..1).</summary>
    public double FailureShare { get; set; }

    public int Loads => Volatile.Read(ref _loads);

    public int Failures => Volatile.Read(ref _failures);

    public async Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        await Task.Yield();
        Interlocked.Increment(ref _loads);
        bool fail;
        lock (_rng) fail = _rng.NextDouble() < FailureShare;
        if (fail)
        {
            Interlocked.Increment(ref _failures);
            throw new TimeoutException($"store unavailable (injected) loading {key}");
        }
        if (expectedNextOffset != CommittedOffset)
            throw new CheckpointConflictException("users", partition, expectedNextOffset, CommittedOffset);
        return store.Rows.GetValueOrDefault(key);   // rounds and commits alternate: no commit runs while users load
    }
}
