using System.Globalization;
using System.Text.Json;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Tests.Reference;

/// <summary>Renders engine outputs (objects or the JSON on the output topics) in the reference's format.</summary>
public static class EngineRendering
{
    public static string Render(ShardOutput o) => o switch
    {
        SessionClosedOutput s => $"session {s.Session.StartMs} {s.Session.EndMs} events={s.Session.Events} pv={s.Session.PageViews} carts={s.Session.AddToCarts} purchases={s.Session.Purchases} revenue={s.Session.Revenue.ToString("F4", CultureInfo.InvariantCulture)} closed_at={s.ClosedAtMs}",
        SegmentTransition t => $"{t.Change} {t.SegmentId} v{t.CatalogVersion} at={t.AtMs} {Cause(t.Cause)}",
        _ => throw new ArgumentException(o.ToString()),
    };

    public static string Cause(EvaluationCause c) => c switch
    {
        EvaluationCause.Event => "event",
        EvaluationCause.SessionClosed => "session_closed",
        _ => "reevaluation",
    };

    /// <summary>Renders a value from <c>sessions</c> or <c>segment-changes</c>; returns (user, sequence, rendered).</summary>
    public static (string User, long Sequence, string Rendered) RenderJson(byte[] value)
    {
        using var doc = JsonDocument.Parse(value);
        var r = doc.RootElement;
        var recordId = r.GetProperty("record_id").GetString()!;
        var slash = recordId.LastIndexOf('/');
        var user = recordId[..slash];
        var seq = long.Parse(recordId[(slash + 1)..], CultureInfo.InvariantCulture);
        string rendered;
        if (r.TryGetProperty("session_id", out _))
            rendered = $"session {r.GetProperty("start_ms").GetInt64()} {r.GetProperty("end_ms").GetInt64()} events={r.GetProperty("events").GetInt32()} " +
                       $"pv={r.GetProperty("page_views").GetInt32()} carts={r.GetProperty("add_to_carts").GetInt32()} purchases={r.GetProperty("purchases").GetInt32()} " +
                       $"revenue={r.GetProperty("revenue").GetDouble().ToString("F4", CultureInfo.InvariantCulture)} closed_at={r.GetProperty("closed_at_ms").GetInt64()}";
        else
            rendered = $"{r.GetProperty("change").GetString()} {r.GetProperty("segment").GetString()} v{r.GetProperty("catalog_version").GetInt32()} at={r.GetProperty("at_ms").GetInt64()} {r.GetProperty("cause").GetString()}";
        return (user, seq, rendered);
    }
}
