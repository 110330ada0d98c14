using System.Text;
using System.Text.Json;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>
/// Writes an alert as stable, compact JSON for the <c>alerts</c> topic, in this field order: <c>schema</c> (1), <c>id</c>,
/// <c>key</c>, <c>scope</c>, <c>detector</c>, <c>subject</c>, <c>severity</c> (info|warning|critical), <c>state</c>
/// (raised|resolved), <c>episode</c>, <c>version</c>, <c>eventTime</c> (ISO-8601 UTC or null), <c>message</c>,
/// <c>evidence</c> (an object whose members keep the detector's order). Non-finite evidence is written as null.
/// </summary>
public static class AlertJson
{
    /// <summary>UTF-8 JSON bytes.</summary>
    public static byte[] ToUtf8(Alert a)
    {
        using var ms = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", Alert.CurrentSchema);
            w.WriteString("id", a.Id);
            w.WriteString("key", a.Key);
            w.WriteString("scope", a.Scope);
            w.WriteString("detector", a.Detector);
            w.WriteString("subject", a.Subject);
            w.WriteString("severity", AlertNames.Of(a.Severity));
            w.WriteString("state", AlertNames.Of(a.State));
            w.WriteNumber("episode", a.Episode);
            w.WriteNumber("version", a.Version);
            if (a.EventTimeMs is { } t) w.WriteString("eventTime", AlertNames.Time(t)); else w.WriteNull("eventTime");
            w.WriteString("message", a.Message);
            w.WriteStartObject("evidence");
            foreach (var e in a.Evidence)
            {
                if (double.IsFinite(e.Value)) w.WriteNumber(e.Name, e.Value); else w.WriteNull(e.Name);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>The JSON as a string.</summary>
    public static string ToJson(Alert a) => Encoding.UTF8.GetString(ToUtf8(a));
}
