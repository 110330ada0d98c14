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
        """;
}
