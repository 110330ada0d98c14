using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage;

/// <summary>
/// Reduces a batch to one write per key, keeping the last one. Set-based writers (a single
/// <c>INSERT ... ON CONFLICT</c> over arrays) cannot touch the same row twice in one statement, and
/// "last write wins" is what a store applying the writes one by one in order would produce anyway.
/// </summary>
internal static class EntityWriteCollapser
{
    /// <summary>The writes in original order of first appearance, each key holding its last write.</summary>
    public static IReadOnlyList<EntityWrite> LastWriteWins(IReadOnlyList<EntityWrite> writes)
    {
        var indexByKey = new Dictionary<string, int>(writes.Count, StringComparer.Ordinal);
        List<EntityWrite>? collapsed = null;
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            if (indexByKey.TryGetValue(write.Key, out var existing))
            {
                collapsed ??= new List<EntityWrite>(writes.Take(i));
                collapsed[existing] = write;
            }
            else
            {
                indexByKey[write.Key] = collapsed?.Count ?? i;
                collapsed?.Add(write);
            }
        }
        return collapsed ?? writes;
    }
}
