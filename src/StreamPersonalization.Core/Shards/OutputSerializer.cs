using System.Buffers;
using System.Text.Json;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// JSON values of the output topics (schema version 1). Written with <see cref="Utf8JsonWriter"/>;
/// every value carries <c>schema</c> and the deterministic <c>record_id</c> for de-duplication.
/// </summary>
public static class OutputSerializer
{
    public const int SchemaVersion = 1;

    // One buffer and writer per thread (each shard has its own): the only allocation per output is its byte[].
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static Utf8JsonWriter Start()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        return writer;
    }

    private static byte[] Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        return t_buffer!.WrittenSpan.ToArray();
    }

    public static byte[] Serialize(SessionClosedOutput o)
    {
        var w = Start();
        {
            w.WriteStartObject();
            w.WriteNumber("schema", SchemaVersion);
            w.WriteString("record_id", o.RecordId);
            w.WriteString("session_id", o.SessionId);
            w.WriteString("user_id", o.UserId);
            w.WriteString("start", TimestampParser.Format(o.Session.StartMs));
            w.WriteString("end", TimestampParser.Format(o.Session.EndMs));
            w.WriteNumber("start_ms", o.Session.StartMs);
            w.WriteNumber("end_ms", o.Session.EndMs);
            w.WriteNumber("duration_ms", o.Session.DurationMs);
            w.WriteNumber("events", o.Session.Events);
            w.WriteNumber("page_views", o.Session.PageViews);
            w.WriteNumber("add_to_carts", o.Session.AddToCarts);
            w.WriteNumber("purchases", o.Session.Purchases);
            w.WriteNumber("revenue", o.Session.Revenue);
            w.WriteNumber("closed_at_ms", o.ClosedAtMs);
            w.WriteEndObject();
        }
        return Finish(w);
    }

    public static byte[] Serialize(SegmentTransition t)
    {
        var w = Start();
        {
            w.WriteStartObject();
            w.WriteNumber("schema", SchemaVersion);
            w.WriteString("record_id", t.RecordId);
            w.WriteString("user_id", t.UserId);
            w.WriteString("segment", t.SegmentId);
            w.WriteString("change", t.Change);
            w.WriteNumber("catalog_version", t.CatalogVersion);
            w.WriteString("at", TimestampParser.Format(t.AtMs));
            w.WriteNumber("at_ms", t.AtMs);
            w.WriteString("cause", t.Cause switch
            {
                EvaluationCause.Event => "event",
                EvaluationCause.SessionClosed => "session_closed",
                EvaluationCause.ConsentWithdrawn => "consent_withdrawn",
                _ => "reevaluation",
            });
            w.WriteEndObject();
        }
        return Finish(w);
    }
}
