using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// <see cref="ICohortReleaseStore"/> in the node's SQLite file (tables <c>sp_cohort_releases</c> and <c>sp_privacy_ledger</c>,
/// created by <see cref="SqliteCheckpointStore.InitializeAsync"/>). A commit runs under <c>BEGIN IMMEDIATE</c>, which
/// serializes every writer of the file, so the existence check, the ledger check and the inserts see one consistent state.
/// Commits are fully synchronous: a spent budget must survive power loss.
/// </summary>
public sealed class SqliteCohortReleaseStore(SqliteStoreOptions options) : ICohortReleaseStore
{
    private const string Columns = "period, period_start_ms, period_end_ms, budget_period, released, document, created_at_ms, published_at_ms";

    private readonly SqliteConnectionFactory _connections = new(Validated(options));

    private static SqliteStoreOptions Validated(SqliteStoreOptions o) { o.Validate(); return o; }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PrivacyLedgerEntry>> ReadLedgerAsync(string budgetPeriod, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT budget_period, period, cohort, epsilon, delta FROM sp_privacy_ledger WHERE budget_period = $b ORDER BY period, cohort";
        command.Parameters.AddWithValue("$b", budgetPeriod);
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
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = $"""
                INSERT INTO sp_cohort_releases ({Columns}) VALUES ($p, $s, $e, $b, $r, $d, $c, $pub)
                ON CONFLICT (period) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$p", release.Period);
            insert.Parameters.AddWithValue("$s", release.PeriodStartMs);
            insert.Parameters.AddWithValue("$e", release.PeriodEndMs);
            insert.Parameters.AddWithValue("$b", release.BudgetPeriod);
            insert.Parameters.AddWithValue("$r", release.Released ? 1 : 0);
            insert.Parameters.AddWithValue("$d", release.Document);
            insert.Parameters.AddWithValue("$c", release.CreatedAtMs);
            insert.Parameters.AddWithValue("$pub", (object?)release.PublishedAtMs ?? DBNull.Value);
            if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                return ReleaseCommitResult.AlreadyReleased;
            }
        }
        await using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "SELECT COUNT(*) FROM sp_privacy_ledger WHERE budget_period = $b";
            count.Parameters.AddWithValue("$b", release.BudgetPeriod);
            if (Convert.ToInt64(await count.ExecuteScalarAsync(ct).ConfigureAwait(false)) != expectedLedgerEntries)
            {
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                return ReleaseCommitResult.LedgerChanged;
            }
        }
        if (charges.Count > 0)
        {
            // Bound parameters per row, not JSON text: the ledger must keep the exact doubles charged.
            await using var ledger = connection.CreateCommand();
            ledger.Transaction = transaction;
            ledger.CommandText = "INSERT INTO sp_privacy_ledger (budget_period, period, cohort, epsilon, delta) VALUES ($b, $p, $c, $e, $d)";
            var b = ledger.Parameters.Add("$b", SqliteType.Text);
            var p = ledger.Parameters.Add("$p", SqliteType.Text);
            var c = ledger.Parameters.Add("$c", SqliteType.Text);
            var e = ledger.Parameters.Add("$e", SqliteType.Real);
            var d = ledger.Parameters.Add("$d", SqliteType.Real);
            foreach (var charge in charges)
            {
                (b.Value, p.Value, c.Value, e.Value, d.Value) = (charge.BudgetPeriod, charge.Period, charge.Cohort, charge.Charge.Epsilon, charge.Charge.Delta);
                await ledger.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return ReleaseCommitResult.Committed;
    }

    /// <inheritdoc />
    public async Task<StoredCohortRelease?> GetReleaseAsync(string period, CancellationToken ct = default) =>
        (await QueryAsync($"SELECT {Columns} FROM sp_cohort_releases WHERE period = $p", ("$p", period), ct).ConfigureAwait(false)).SingleOrDefault();

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredCohortRelease>> ListReleasesAsync(int max, CancellationToken ct = default) =>
        QueryAsync($"SELECT {Columns} FROM sp_cohort_releases ORDER BY period_start_ms DESC, period DESC LIMIT $n", ("$n", Math.Max(0, max)), ct);

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredCohortRelease>> ListUnpublishedAsync(CancellationToken ct = default) =>
        QueryAsync($"SELECT {Columns} FROM sp_cohort_releases WHERE published_at_ms IS NULL ORDER BY period_start_ms, period", null, ct);

    /// <inheritdoc />
    public async Task MarkPublishedAsync(string period, long publishedAtMs, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE sp_cohort_releases SET published_at_ms = $t WHERE period = $p AND published_at_ms IS NULL";
        command.Parameters.AddWithValue("$t", publishedAtMs);
        command.Parameters.AddWithValue("$p", period);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<StoredCohortRelease>> QueryAsync(string sql, (string Name, object Value)? parameter, CancellationToken ct)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (parameter is { } p) command.Parameters.AddWithValue(p.Name, p.Value);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredCohortRelease>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4) != 0,
                reader.GetString(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7)));
        return result;
    }
}
