using Npgsql;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Storage.Postgres;

/// <summary>
/// <see cref="ICohortReleaseStore"/> on the cluster's PostgreSQL (tables <c>sp_cohort_releases</c> and <c>sp_privacy_ledger</c>,
/// created by <see cref="PostgresCheckpointStore.InitializeAsync"/>). A commit first takes a transaction-scoped advisory lock on
/// the budget period, so releases charging one budget serialize and the ledger count it checks cannot change before its
/// inserts commit (READ COMMITTED alone would let two periods of one budget window both pass on the same count). A second
/// releaser of the same period waits on the primary key and then finds the row. Commits are synchronous (the server default).
/// </summary>
public sealed class PostgresCohortReleaseStore : ICohortReleaseStore, IAsyncDisposable
{
    private const string Columns = "period, period_start_ms, period_end_ms, budget_period, released, document, created_at_ms, published_at_ms";

    private readonly NpgsqlDataSource _dataSource;

    public PostgresCohortReleaseStore(PostgresStoreOptions options)
    {
        options.Validate();
        _dataSource = options.CreateDataSource();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PrivacyLedgerEntry>> ReadLedgerAsync(string budgetPeriod, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT budget_period, period, cohort, epsilon, delta FROM sp_privacy_ledger WHERE budget_period = $1 ORDER BY period, cohort");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = budgetPeriod });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<PrivacyLedgerEntry>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), new PrivacyBudget(reader.GetDouble(3), reader.GetDouble(4))));
        return result;
    }

    /// <inheritdoc />
    public async Task<ReleaseCommitResult> TryCommitReleaseAsync(StoredCohortRelease release, IReadOnlyList<PrivacyLedgerEntry> charges, int expectedLedgerEntries, CancellationToken ct = default)
    {
        CohortReleaseRows.CheckCharges(release, charges);
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var lockBudget = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('StreamPersonalization.Storage/privacy-ledger/' || $1, 0))", connection, transaction))
        {
            lockBudget.Parameters.Add(new NpgsqlParameter<string> { TypedValue = release.BudgetPeriod });
            await lockBudget.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO sp_cohort_releases ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (period) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = release.Period });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = release.PeriodStartMs });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = release.PeriodEndMs });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = release.BudgetPeriod });
            insert.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = release.Released });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = release.Document });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = release.CreatedAtMs });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)release.PublishedAtMs ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                return ReleaseCommitResult.AlreadyReleased;
            }
        }
        await using (var count = new NpgsqlCommand("SELECT COUNT(*) FROM sp_privacy_ledger WHERE budget_period = $1", connection, transaction))
        {
            count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = release.BudgetPeriod });
            if ((long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))! != expectedLedgerEntries)
            {
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                return ReleaseCommitResult.LedgerChanged;
            }
        }
        if (charges.Count > 0)
        {
            await using var ledger = new NpgsqlCommand("""
                INSERT INTO sp_privacy_ledger (budget_period, period, cohort, epsilon, delta)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::double precision[], $5::double precision[])
                """, connection, transaction);
            ledger.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = charges.Select(c => c.BudgetPeriod).ToArray() });
            ledger.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = charges.Select(c => c.Period).ToArray() });
            ledger.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = charges.Select(c => c.Cohort).ToArray() });
            ledger.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = charges.Select(c => c.Charge.Epsilon).ToArray() });
            ledger.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = charges.Select(c => c.Charge.Delta).ToArray() });
            await ledger.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return ReleaseCommitResult.Committed;
    }

    /// <inheritdoc />
    public async Task<StoredCohortRelease?> GetReleaseAsync(string period, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM sp_cohort_releases WHERE period = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = period });
        return (await ReadAllAsync(command, ct).ConfigureAwait(false)).SingleOrDefault();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredCohortRelease>> ListReleasesAsync(int max, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM sp_cohort_releases ORDER BY period_start_ms DESC, period DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(0, max) });
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredCohortRelease>> ListUnpublishedAsync(CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM sp_cohort_releases WHERE published_at_ms IS NULL ORDER BY period_start_ms, period");
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task MarkPublishedAsync(string period, long publishedAtMs, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("UPDATE sp_cohort_releases SET published_at_ms = $1 WHERE period = $2 AND published_at_ms IS NULL");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = publishedAtMs });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = period });
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<List<StoredCohortRelease>> ReadAllAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredCohortRelease>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetBoolean(4),
                reader.GetString(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7)));
        return result;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
