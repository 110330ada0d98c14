using System.Globalization;
using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// The statements of one <see cref="CheckpointBatch"/>, run by <see cref="SqliteCheckpointStore.CommitAsync"/> inside
/// its write transaction: the fencing read, the checkpoint row, outbox rows, entity upserts and deletes, and the
/// assignment deletions (with audit rows for erasures) of users who were erased or withdrew consent.
/// </summary>
internal static class SqliteCheckpointWriter
{
    public static async Task<long?> ReadStoredOffsetAsync(SqliteConnection connection, SqliteTransaction transaction, CheckpointBatch batch, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT next_offset FROM sp_checkpoints WHERE scope = $scope AND "partition" = $partition""";
        command.Parameters.AddWithValue("$scope", batch.Scope);
        command.Parameters.AddWithValue("$partition", batch.Partition);
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    public static async Task WriteCheckpointAsync(SqliteConnection connection, SqliteTransaction transaction, CheckpointBatch batch, string now, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO sp_checkpoints (scope, "partition", next_offset, watermark_ms, shard_state, updated_at)
            VALUES ($scope, $partition, $next_offset, $watermark_ms, $shard_state, $now)
            ON CONFLICT (scope, "partition") DO UPDATE SET
                next_offset = excluded.next_offset,
                watermark_ms = excluded.watermark_ms,
                shard_state = excluded.shard_state,
                updated_at = excluded.updated_at
            """;
        command.Parameters.AddWithValue("$scope", batch.Scope);
        command.Parameters.AddWithValue("$partition", batch.Partition);
        command.Parameters.AddWithValue("$next_offset", batch.NextOffset);
        command.Parameters.AddWithValue("$watermark_ms", batch.WatermarkMs);
        command.Parameters.Add("$shard_state", SqliteType.Blob).Value = (object?)batch.ShardState ?? DBNull.Value;
        command.Parameters.AddWithValue("$now", now);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Deletes erased and withdrawn users' sticky assignments and writes one audit row per erasure.</summary>
    public static void WriteUserDeletions(SqliteConnection connection, SqliteTransaction transaction, CheckpointBatch batch, string now)
    {
        var erasures = batch.Erasures ?? [];
        var withdrawals = batch.Withdrawals ?? [];
        if (erasures.Count == 0 && withdrawals.Count == 0) return;
        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM sp_assignments WHERE user_key = $key";
        var key = delete.Parameters.Add("$key", SqliteType.Text);
        foreach (var withdrawn in withdrawals)
        {
            key.Value = withdrawn;
            delete.ExecuteNonQuery();
        }
        if (erasures.Count == 0) return;
        using var audit = connection.CreateCommand();
        audit.Transaction = transaction;
        audit.CommandText = """INSERT INTO sp_audit (at, action, subject, scope, "partition") VALUES ($now, $action, $subject, $scope, $partition)""";
        audit.Parameters.AddWithValue("$now", now);
        audit.Parameters.AddWithValue("$action", ErasureAudit.Action);
        audit.Parameters.AddWithValue("$scope", batch.Scope);
        audit.Parameters.AddWithValue("$partition", batch.Partition);
        var subject = audit.Parameters.Add("$subject", SqliteType.Text);
        foreach (var erased in erasures)
        {
            key.Value = erased;
            delete.ExecuteNonQuery();
            subject.Value = ErasureAudit.Subject(erased);
            audit.ExecuteNonQuery();
        }
    }

    /// <summary>Inserts the batch's outbox rows in list order (so ids follow it) with one reused prepared statement.</summary>
    public static void WriteOutbox(SqliteConnection connection, SqliteTransaction transaction, CheckpointBatch batch, string now, CancellationToken ct)
    {
        if (batch.Outbox is not { Count: > 0 } outbox)
            return;

        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO sp_outbox (scope, "partition", topic, key, value, created_at)
            VALUES ($scope, $partition, $topic, $key, $value, $now)
            """;
        insert.Parameters.AddWithValue("$scope", batch.Scope);
        insert.Parameters.AddWithValue("$partition", batch.Partition);
        insert.Parameters.AddWithValue("$now", now);
        var topic = insert.Parameters.Add("$topic", SqliteType.Text);
        var key = insert.Parameters.Add("$key", SqliteType.Blob);
        var value = insert.Parameters.Add("$value", SqliteType.Blob);

        foreach (var message in outbox)
        {
            ct.ThrowIfCancellationRequested();
            topic.Value = message.Topic;
            key.Value = message.Key;
            value.Value = message.Value;
            insert.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Applies the writes in order with two prepared statements reused for every entity: SQLite is
    /// in-process, so per-row execution costs no round trip and the statements are compiled once.
    /// </summary>
    public static void WriteEntities(SqliteConnection connection, SqliteTransaction transaction, CheckpointBatch batch, string now, CancellationToken ct)
    {
        if (batch.Entities.Count == 0)
            return;

        using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO sp_entities (scope, "partition", key, state, next_timer_ms, updated_at)
            VALUES ($scope, $partition, $key, $state, $next_timer_ms, $now)
            ON CONFLICT (scope, "partition", key) DO UPDATE SET
                state = excluded.state,
                next_timer_ms = excluded.next_timer_ms,
                updated_at = excluded.updated_at
            """;
        upsert.Parameters.AddWithValue("$scope", batch.Scope);
        upsert.Parameters.AddWithValue("$partition", batch.Partition);
        upsert.Parameters.AddWithValue("$now", now);
        var upsertKey = upsert.Parameters.Add("$key", SqliteType.Text);
        var upsertState = upsert.Parameters.Add("$state", SqliteType.Blob);
        var upsertTimer = upsert.Parameters.Add("$next_timer_ms", SqliteType.Integer);

        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = """DELETE FROM sp_entities WHERE scope = $scope AND "partition" = $partition AND key = $key""";
        delete.Parameters.AddWithValue("$scope", batch.Scope);
        delete.Parameters.AddWithValue("$partition", batch.Partition);
        var deleteKey = delete.Parameters.Add("$key", SqliteType.Text);

        foreach (var write in batch.Entities)
        {
            ct.ThrowIfCancellationRequested();
            if (write.State is null)
            {
                deleteKey.Value = write.Key;
                delete.ExecuteNonQuery();
            }
            else
            {
                upsertKey.Value = write.Key;
                upsertState.Value = write.State;
                upsertTimer.Value = (object?)write.NextTimerMs ?? DBNull.Value;
                upsert.ExecuteNonQuery();
            }
        }
    }
}
