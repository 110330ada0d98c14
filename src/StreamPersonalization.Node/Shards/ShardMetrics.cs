using System.Diagnostics.Metrics;

namespace StreamPersonalization.Node.Shards;

/// <summary>
/// Shard fault metrics (meter <c>StreamPersonalization.Shards</c>, tag <c>partition</c>), for an OpenTelemetry
/// MeterProvider or a <see cref="MeterListener"/>: poison records, store retries, and shards currently stalled on their store.
/// </summary>
public static class ShardMetrics
{
    public const string MeterName = "StreamPersonalization.Shards";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Records dead-lettered because entity code threw on them.</summary>
    public static readonly Counter<long> PoisonRecords = Meter.CreateCounter<long>("sp.shard.poison_records", "{record}", "Records dead-lettered as processing_error after entity code threw");

    /// <summary>Failed store calls retried after a back-off (reads of entities or timers, checkpoint commits).</summary>
    public static readonly Counter<long> StoreRetries = Meter.CreateCounter<long>("sp.shard.store_retries", "{retry}", "Store calls retried by shards after a back-off");

    // Stalled shards are observed per node (NodeMetrics: sp.shard.stalled), not counted here: a process-wide
    // up/down counter read by a listener that started after a stall would go negative on the recovery.
}
