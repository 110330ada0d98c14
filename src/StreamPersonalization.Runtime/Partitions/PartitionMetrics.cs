using System.Diagnostics.Metrics;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>
/// Partition fault metrics (meter <c>StreamPersonalization.Shards</c>, tag <c>partition</c>), for an OpenTelemetry
/// MeterProvider or a <see cref="MeterListener"/>: poison records, store retries, restarts and lost rounds. The names keep the old runtime's
/// (<c>sp.shard.*</c>): dashboards and alerts built on them stay valid.
/// </summary>
public static class PartitionMetrics
{
    public const string MeterName = "StreamPersonalization.Shards";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Records dead-lettered because entity code threw on them.</summary>
    public static readonly Counter<long> PoisonRecords = Meter.CreateCounter<long>("sp.shard.poison_records", "{record}", "Records dead-lettered as processing_error after entity code threw");

    /// <summary>Failed store calls retried after a back-off (reads of entities or timers, checkpoint commits).</summary>
    public static readonly Counter<long> StoreRetries = Meter.CreateCounter<long>("sp.shard.store_retries", "{retry}", "Store calls retried by partitions after a back-off");

    /// <summary>New epochs started from the checkpoint after a failure (a failed round, an undeliverable output, an exception).</summary>
    public static readonly Counter<long> Restarts = Meter.CreateCounter<long>("sp.shard.restarts", "{restart}", "Partitions started again from their checkpoint after a failure");

    /// <summary>Rounds whose users fell silent (a shard hand-off dropped their messages, a node gone), replayed muted from
    /// the checkpoint: expected around scaling, a steady rate is not.</summary>
    public static readonly Counter<long> LostRounds = Meter.CreateCounter<long>("sp.shard.lost_rounds", "{round}", "Rounds whose users fell silent, replayed from the checkpoint");

    // Stalled partitions are observed per node (NodeMetrics: sp.shard.stalled), not counted here: a process-wide
    // up/down counter read by a listener that started after a stall would go negative on the recovery.
}
