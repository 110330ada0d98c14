using System.Diagnostics.Metrics;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Runtime.Partitions;

namespace StreamPersonalization.Node.Metrics;

/// <summary>
/// Observable instruments of one node (meter <c>StreamPersonalization.Node</c>, scoped to the node), read when a
/// listener asks: readiness, failed shards, and per owned shard (tag <c>partition</c>) its state, next offset, queued
/// records, and its exactly-once record counters. Those counters are checkpointed with the partition, so they count
/// since the partition began (not since this process started) and a node that takes over a partition continues from
/// the checkpointed figure; a shard rewinding to its checkpoint (poison record, restart) would briefly lower them, so
/// each series reports the highest value it has seen and never goes down.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "StreamPersonalization.Node";

    private static readonly PartitionState[] States = Enum.GetValues<PartitionState>();
    private static readonly RejectReason[] Reasons = Enum.GetValues<RejectReason>();

    private readonly Meter _meter;
    private readonly StreamNode _node;
    private readonly Dictionary<(string Series, int Partition, int Detail), long> _highest = new();

    public NodeMetrics(StreamNode node)
    {
        _node = node;
        _meter = new Meter(new MeterOptions(MeterName) { Scope = node });
        _meter.CreateObservableGauge("sp.node.ready", () => node.Ready ? 1 : 0, null,
            "1 when the node is in the consumer group and every partition it owns is running (as /readyz)");
        _meter.CreateObservableGauge("sp.node.failed_shards", () => node.FailedShards, "{shard}",
            "Partitions in state failed (stopped: their next records fell off the log)");
        _meter.CreateObservableGauge("sp.shard.state", ObserveStates, null,
            "1 for the partition's current state (loading, running, stalled, failed, stopped), 0 for the other states");
        _meter.CreateObservableGauge("sp.shard.next_offset", () => PerShard(s => s.NextOffset), "{offset}",
            "Next clickstream offset the shard processes");
        _meter.CreateObservableGauge("sp.shard.stalled", () => PerShard(s => s.State == PartitionState.Stalled ? 1 : 0), "{shard}",
            "1 while the shard waits for its store (retrying with back-off), else 0");
        _meter.CreateObservableGauge("sp.shard.queued", () => PerShard(s => s.Queued), "{record}",
            "Records received for the partition and not yet taken into a round");
        _meter.CreateObservableCounter("sp.shard.records", () => PerShard(s => Highest("records", s.Partition, 0, s.Counters.Records)), "{record}",
            "Clickstream records processed by the partition's shards since the partition began (checkpointed)");
        _meter.CreateObservableCounter("sp.shard.events_accepted", () => PerShard(s => Highest("accepted", s.Partition, 0, s.Counters.ValidEvents)), "{event}",
            "Valid events applied to user entities since the partition began (checkpointed)");
        _meter.CreateObservableCounter("sp.shard.dead_lettered", ObserveDeadLettered, "{record}",
            "Records sent to the dead-letter topic, by reason, since the partition began (checkpointed)");
    }

    /// <summary>The node the meter belongs to (its <see cref="Meter.Scope"/>): give it to the node's <see cref="MetricsCollector"/>.</summary>
    public object Scope => _node;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> PerShard(Func<PartitionStatus, long> value) =>
        _node.Shards.Select(s => new Measurement<long>(value(s), PartitionTag(s)));

    private IEnumerable<Measurement<int>> ObserveStates() =>
        _node.Shards.SelectMany(s =>
        {
            var current = s.State;
            return States.Select(state => new Measurement<int>(state == current ? 1 : 0, PartitionTag(s),
                new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant())));
        });

    private IEnumerable<Measurement<long>> ObserveDeadLettered() =>
        _node.Shards.SelectMany(s =>
        {
            // Plain longs written by the shard thread: a read from here is never torn on 64-bit, only possibly a moment old.
            var rejected = s.Counters.Rejected;
            return Reasons.Where(r => (int)r < rejected.Length).Select(r => new Measurement<long>(
                Highest("dead_lettered", s.Partition, (int)r, rejected[(int)r]), PartitionTag(s), new KeyValuePair<string, object?>("reason", r.Code())));
        });

    private long Highest(string series, int partition, int detail, long value)
    {
        lock (_highest)
        {
            var key = (series, partition, detail);
            var highest = Math.Max(value, _highest.GetValueOrDefault(key));
            _highest[key] = highest;
            return highest;
        }
    }

    private static KeyValuePair<string, object?> PartitionTag(PartitionStatus s) => new("partition", s.Partition);
}
