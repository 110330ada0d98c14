using System.Collections.Concurrent;
using System.Text.Json;

namespace StreamPersonalization.Node.Experiments;

/// <summary>The latest published snapshot of one experiment as a node last read it from <c>experiment-state</c>.</summary>
/// <param name="Json">The snapshot exactly as published (served by <c>GET /v1/experiments/{id}</c>).</param>
/// <param name="Allocation">Bandit allocation per variant (null when the snapshot has none, e.g. fixed splits).</param>
public sealed record PublishedSnapshot(string ExperimentId, long Version, byte[] Json, IReadOnlyDictionary<string, double>? Allocation)
{
    /// <inheritdoc />
    public override string ToString() => $"PublishedSnapshot({ExperimentId} v{Version}, {Json.Length} B, allocation {(Allocation is null ? "none" : string.Join(",", Allocation.Select(kv => $"{kv.Key}={kv.Value:F3}")))})";

    /// <summary>Parses what the experiment stage publishes; throws <see cref="JsonException"/> for a record that is not a snapshot.</summary>
    public static PublishedSnapshot Parse(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var id = root.GetProperty("experimentId").GetString() ?? throw new JsonException("experimentId is null");
        var version = root.GetProperty("version").GetInt64();
        Dictionary<string, double>? allocation = null;
        foreach (var arm in root.GetProperty("arms").EnumerateArray())
        {
            if (!arm.TryGetProperty("allocation", out var a) || a.ValueKind != JsonValueKind.Number) continue;
            (allocation ??= new(StringComparer.Ordinal))[arm.GetProperty("variantId").GetString()!] = a.GetDouble();
        }
        return new(id, version, json, allocation);
    }
}

/// <summary>
/// Every node's view of the experiments' latest snapshots, fed by <see cref="ExperimentStateReader"/>. Keeps the
/// highest version per experiment: after a crash the stage may publish an older version again, which must not
/// move a node's bandit allocation backwards.
/// </summary>
public sealed class SnapshotBoard
{
    private readonly ConcurrentDictionary<string, PublishedSnapshot> _latest = new(StringComparer.Ordinal);

    /// <summary>Snapshots received (including ignored older versions).</summary>
    public long Received { get; private set; }

    /// <summary>Offers a snapshot; returns true when it became the latest of its experiment.</summary>
    public bool Offer(PublishedSnapshot s)
    {
        Received++;
        while (true)
        {
            if (!_latest.TryGetValue(s.ExperimentId, out var current))
            {
                if (_latest.TryAdd(s.ExperimentId, s)) return true;
                continue;
            }
            if (current.Version >= s.Version) return false;
            if (_latest.TryUpdate(s.ExperimentId, s, current)) return true;
        }
    }

    /// <summary>The latest snapshot of an experiment, or null if none was read yet.</summary>
    public PublishedSnapshot? Latest(string experimentId) => _latest.GetValueOrDefault(experimentId);
}
