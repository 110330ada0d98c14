namespace StreamPersonalization.Storage.Sqlite;

/// <summary>DDL of the SQLite store. Every statement is idempotent so <c>InitializeAsync</c> can run on every start.</summary>
internal static class SqliteSchema
{
    // "partition" is quoted because it is a keyword (window functions) in SQLite.
    // Keys use the default BINARY collation: ordering is by UTF-8 bytes, the same as PostgreSQL's "C" collation.
    public const string Create = """
        CREATE TABLE IF NOT EXISTS sp_checkpoints (
            scope        TEXT    NOT NULL,
            "partition"  INTEGER NOT NULL,
            next_offset  INTEGER NOT NULL,
            watermark_ms INTEGER NOT NULL,
            shard_state  BLOB    NULL,
            updated_at   TEXT    NOT NULL,
            PRIMARY KEY (scope, "partition")
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS sp_entities (
            scope         TEXT    NOT NULL,
            "partition"   INTEGER NOT NULL,
            key           TEXT    NOT NULL,
            state         BLOB    NOT NULL,
            next_timer_ms INTEGER NULL,
            updated_at    TEXT    NOT NULL,
            PRIMARY KEY (scope, "partition", key)
        );

        CREATE INDEX IF NOT EXISTS ix_sp_entities_timers
            ON sp_entities (scope, "partition") WHERE next_timer_ms IS NOT NULL;

        -- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted, so they keep
        -- increasing with commit order (writers are serialized by BEGIN IMMEDIATE).
        CREATE TABLE IF NOT EXISTS sp_outbox (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            scope       TEXT    NOT NULL,
            "partition" INTEGER NOT NULL,
            topic       TEXT    NOT NULL,
            key         BLOB    NOT NULL,
            value       BLOB    NOT NULL,
            created_at  TEXT    NOT NULL
        );

        CREATE INDEX IF NOT EXISTS ix_sp_outbox_partition
            ON sp_outbox (scope, "partition", id);

        -- Lookup by key alone (assignment API on a node that does not own the user's partition).
        CREATE INDEX IF NOT EXISTS ix_sp_entities_key ON sp_entities (scope, key);

        CREATE TABLE IF NOT EXISTS sp_assignments (
            experiment_id      TEXT    NOT NULL,
            user_key           TEXT    NOT NULL,
            variant            TEXT    NOT NULL,
            definition_version INTEGER NOT NULL,
            assigned_at_ms     INTEGER NOT NULL,
            PRIMARY KEY (experiment_id, user_key)
        ) WITHOUT ROWID;

        CREATE INDEX IF NOT EXISTS ix_sp_assignments_user ON sp_assignments (user_key);

        -- Cohort releases: one row per period (the primary key makes the first releaser win), written in the same
        -- transaction as the ledger entries it spends. The ledger is append-only: the privacy accountant's durable state.
        CREATE TABLE IF NOT EXISTS sp_cohort_releases (
            period          TEXT    NOT NULL PRIMARY KEY,
            period_start_ms INTEGER NOT NULL,
            period_end_ms   INTEGER NOT NULL,
            budget_period   TEXT    NOT NULL,
            released        INTEGER NOT NULL,
            document        TEXT    NOT NULL,
            created_at_ms   INTEGER NOT NULL,
            published_at_ms INTEGER NULL
        );

        CREATE INDEX IF NOT EXISTS ix_sp_cohort_releases_start ON sp_cohort_releases (period_start_ms);

        CREATE TABLE IF NOT EXISTS sp_privacy_ledger (
            budget_period TEXT NOT NULL,
            period        TEXT NOT NULL,
            cohort        TEXT NOT NULL,
            epsilon       REAL NOT NULL,
            delta         REAL NOT NULL,
            PRIMARY KEY (budget_period, period, cohort)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS sp_experiment_definitions (
            experiment_id TEXT    NOT NULL PRIMARY KEY,
            version       INTEGER NOT NULL,
            document      TEXT    NOT NULL,
            updated_at_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sp_audit (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT    NOT NULL,
            action      TEXT    NOT NULL,
            subject     TEXT    NOT NULL,
            scope       TEXT    NOT NULL,
            "partition" INTEGER NOT NULL
        );
        """;
}
