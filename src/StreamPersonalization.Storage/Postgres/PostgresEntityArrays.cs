using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage.Postgres;

/// <summary>
/// A batch's entity writes as parallel arrays, so 10k+ entities go to the server as three array
/// parameters of one <c>unnest</c> upsert and one <c>= ANY</c> delete instead of one statement per row.
/// </summary>
/// <remarks>Keys must be unique (see <see cref="EntityWriteCollapser"/>): one statement cannot touch a row twice.</remarks>
internal sealed record PostgresEntityArrays(string[] DeleteKeys, string[] UpsertKeys, byte[][] UpsertStates, long?[] UpsertTimers)
{
    public static PostgresEntityArrays From(IReadOnlyList<EntityWrite> writes)
    {
        var deletes = 0;
        foreach (var write in writes)
            if (write.State is null) deletes++;

        var deleteKeys = new string[deletes];
        var upsertKeys = new string[writes.Count - deletes];
        var upsertStates = new byte[upsertKeys.Length][];
        var upsertTimers = new long?[upsertKeys.Length];
        int d = 0, u = 0;
        foreach (var write in writes)
        {
            if (write.State is null)
            {
                deleteKeys[d++] = write.Key;
            }
            else
            {
                upsertKeys[u] = write.Key;
                upsertStates[u] = write.State;
                upsertTimers[u] = write.NextTimerMs;
                u++;
            }
        }
        return new PostgresEntityArrays(deleteKeys, upsertKeys, upsertStates, upsertTimers);
    }
}
