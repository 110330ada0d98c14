namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Reads a passivated entity's committed state (the state store in production). Called synchronously
/// on the shard's own thread, which owns the partition and may block.
/// </summary>
public interface IEntityStateSource
{
    byte[]? Load(string key);
}

/// <summary>No store: every entity starts empty (engine benchmark, pure unit tests).</summary>
public sealed class NoEntityState : IEntityStateSource
{
    public static readonly NoEntityState Instance = new();

    public byte[]? Load(string key) => null;
}
