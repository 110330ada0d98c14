using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Node.Hosting;

/// <summary>A one-line summary of a node for logs and the demo: shards, offsets and counters.</summary>
public static class NodeStatus
{
    public static string Describe(StreamNode node)
    {
        var shards = node.Shards.OrderBy(s => s.Partition).ToList();
        long records = 0, valid = 0, rejected = 0, late = 0, sessions = 0, transitions = 0;
        foreach (var s in shards)
        {
            var c = s.Counters;
            records += c.Records; valid += c.ValidEvents; rejected += c.RejectedTotal; late += c.LateEvents;
            sessions += c.SessionsClosed; transitions += c.Transitions;
        }
        return $"shards [{string.Join(",", shards.Select(s => s.Partition))}] ready={node.Ready} failed={node.FailedShards} " +
               $"records={records} valid={valid} rejected={rejected} (late {late}) sessions={sessions} transitions={transitions}";
    }

    /// <summary>Rejected records by reason code, summed over the node's shards.</summary>
    public static IReadOnlyDictionary<string, long> RejectedByReason(StreamNode node)
    {
        var result = new SortedDictionary<string, long>();
        foreach (var s in node.Shards)
        {
            var rejected = s.Counters.Rejected;
            for (var i = 1; i < rejected.Length; i++)
                if (rejected[i] > 0) result[((RejectReason)i).Code()] = result.GetValueOrDefault(((RejectReason)i).Code()) + rejected[i];
        }
        return result;
    }
}
