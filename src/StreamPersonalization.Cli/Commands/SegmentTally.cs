using System.Collections.Concurrent;
using System.Text.Json;
using Confluent.Kafka;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// Reads <c>segment-changes</c> back from Kafka like a downstream service would (de-duplicating by
/// record id) and keeps segment sizes = enters − exits, plus the latest transitions for display.
/// </summary>
internal sealed class SegmentTally(string bootstrap, string topic, SegmentCatalog catalog) : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _sizes = new(catalog.Segments.Select(s => new KeyValuePair<string, long>(s.Id, 0)));
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly HashSet<string> _seen = [];
    private readonly IConsumer<byte[], byte[]> _consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = "sp-demo-tally", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
    }).Build();

    public void Run(CancellationToken ct)
    {
        _consumer.Subscribe(topic);
        while (!ct.IsCancellationRequested)
        {
            var r = _consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message?.Value is null) continue;
            using var doc = JsonDocument.Parse(r.Message.Value);
            var root = doc.RootElement;
            if (!_seen.Add(root.GetProperty("record_id").GetString()!)) continue;
            var segment = root.GetProperty("segment").GetString()!;
            var change = root.GetProperty("change").GetString();
            _sizes.AddOrUpdate(segment, change == "enter" ? 1 : -1, (_, v) => v + (change == "enter" ? 1 : -1));
            _recent.Enqueue($"{root.GetProperty("at").GetString()} {root.GetProperty("user_id").GetString()} {change} {segment} ({root.GetProperty("cause").GetString()})");
            while (_recent.Count > 20) _recent.TryDequeue(out _);
        }
    }

    public IEnumerable<KeyValuePair<string, long>> Sizes() => _sizes.OrderBy(kv => kv.Key);

    public IEnumerable<string> Recent(int n) => _recent.Reverse().Take(n);

    public void Dispose()
    {
        try { _consumer.Close(); } catch (KafkaException) { }
        _consumer.Dispose();
    }
}
