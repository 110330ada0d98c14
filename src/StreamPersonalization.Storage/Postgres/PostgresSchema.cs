namespace StreamPersonalization.Storage.Postgres;

/// <summary>DDL of the PostgreSQL store, created in the first schema of the connection's search path.</summary>
internal static class PostgresSchema
{
    /// <summary>
    /// Serializes schema creation per database and schema: concurrent <c>CREATE TABLE IF NOT EXISTS</c>
    /// from several nodes can otherwise fail with a unique violation on the system catalogs.
    /// Transaction-scoped, so it is released by the commit.
    /// </summary>
    public const string Lock = "SELECT pg_advisory_xact_lock(hashtextextended('StreamPersonalization.Storage/schema/' || current_schema(), 0))";

    // COLLATE "C": keys and scopes compare by bytes, so ReadEntitiesAsync orders like the SQLite store
    // whatever the database's locale, and the primary-key index stays cheap to maintain.
    public const string Create = """
        CREATE TABLE IF NOT EXISTS sp_checkpoints (
            scope        text COLLATE "C" NOT NULL,
            "partition"  integer     NOT NULL,
            next_offset  bigint      NOT NULL,
            watermark_ms bigint      NOT NULL,
            shard_state  bytea       NULL,
            updated_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, "partition")
        );

        CREATE TABLE IF NOT EXISTS sp_entities (
            scope         text COLLATE "C" NOT NULL,
            "partition"   integer     NOT NULL,
            key           text COLLATE "C" NOT NULL,
            state         bytea       NOT NULL,
            next_timer_ms bigint      NULL,
            updated_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, "partition", key)
        );

        CREATE INDEX IF NOT EXISTS ix_sp_entities_timers
            ON sp_entities (scope, "partition") WHERE next_timer_ms IS NOT NULL;

        CREATE TABLE IF NOT EXISTS sp_outbox (
            id          bigserial   PRIMARY KEY,
            scope       text COLLATE "C" NOT NULL,
            "partition" integer     NOT NULL,
            topic       text        NOT NULL,
            key         bytea       NOT NULL,
            value       bytea       NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        CREATE INDEX IF NOT EXISTS ix_sp_outbox_partition
            ON sp_outbox (scope, "partition", id);

        -- Lookup by key alone (assignment API on a node that does not own the user's partition).
        CREATE INDEX IF NOT EXISTS ix_sp_entities_key ON sp_entities (scope, key);

        CREATE TABLE IF NOT EXISTS sp_assignments (
            experiment_id      text COLLATE "C" NOT NULL,
            user_key           text COLLATE "C" NOT NULL,
            variant            text    NOT NULL,
            definition_version integer NOT NULL,
            assigned_at_ms     bigint  NOT NULL,
            PRIMARY KEY (experiment_id, user_key)
        );

        CREATE INDEX IF NOT EXISTS ix_sp_assignments_user ON sp_assignments (user_key);

        -- Cohort releases: one row per period (the primary key makes the first releaser win), written in the same
        -- transaction as the ledger entries it spends. The ledger is append-only: the privacy accountant's durable state.
        CREATE TABLE IF NOT EXISTS sp_cohort_releases (
            period          text COLLATE "C" NOT NULL PRIMARY KEY,
            period_start_ms bigint  NOT NULL,
            period_end_ms   bigint  NOT NULL,
            budget_period   text COLLATE "C" NOT NULL,
            released        boolean NOT NULL,
            document        text    NOT NULL,
            created_at_ms   bigint  NOT NULL,
            published_at_ms bigint  NULL
        );

        CREATE INDEX IF NOT EXISTS ix_sp_cohort_releases_start ON sp_cohort_releases (period_start_ms);

        CREATE TABLE IF NOT EXISTS sp_privacy_ledger (
            budget_period text COLLATE "C" NOT NULL,
            period        text COLLATE "C" NOT NULL,
            cohort        text COLLATE "C" NOT NULL,
            epsilon       double precision NOT NULL,
            delta         double precision NOT NULL,
            PRIMARY KEY (budget_period, period, cohort)
        );

        CREATE TABLE IF NOT EXISTS sp_experiment_definitions (
            experiment_id text COLLATE "C" NOT NULL PRIMARY KEY,
            version       integer NOT NULL,
            document      text    NOT NULL,
            updated_at_ms bigint  NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sp_audit (
            id          bigserial   PRIMARY KEY,
            at          timestamptz NOT NULL DEFAULT now(),
            action      text        NOT NULL,
            subject     text        NOT NULL,
            scope       text        NOT NULL,
            "partition" integer     NOT NULL
        );
        """;
}
