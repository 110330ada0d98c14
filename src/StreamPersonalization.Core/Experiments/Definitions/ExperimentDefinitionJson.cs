using System.Text.Json;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// Writes a definition as JSON with exactly the field names of <c>experiments.yaml</c>, so what the admin API
/// returns can be edited and sent back (<see cref="ExperimentCatalogLoader.ParseDefinition"/> reads it:
/// JSON is YAML). Factorial experiments are written with their factors, not the derived cells.
/// </summary>
public static class ExperimentDefinitionJson
{
    /// <summary>Writes one definition as a JSON object.</summary>
    public static void Write(Utf8JsonWriter w, ExperimentDefinition d)
    {
        w.WriteStartObject();
        w.WriteString("id", d.Id);
        if (d.Description.Length > 0) w.WriteString("description", d.Description);
        w.WriteString("kind", ExperimentNames.Of(ExperimentNames.Kinds, d.Kind));
        w.WriteString("status", ExperimentNames.Of(ExperimentNames.Statuses, d.Status));
        if (d.Kind == ExperimentKind.Factorial)
        {
            w.WriteStartArray("factors");
            foreach (var f in d.Factors)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                Strings(w, "levels", f.Levels);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        else
        {
            w.WriteStartArray("variants");
            foreach (var v in d.Variants)
            {
                w.WriteStartObject();
                w.WriteString("id", v.Id);
                w.WriteNumber("weight", v.Weight);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartObject("targeting");
        Strings(w, "segments", d.Targeting.Segments);
        Strings(w, "countries", d.Targeting.Countries);
        Strings(w, "devices", d.Targeting.Devices);
        w.WriteEndObject();
        w.WriteStartObject("primary_metric");
        w.WriteString("name", d.PrimaryMetric.Name);
        w.WriteString("kind", ExperimentNames.Of(ExperimentNames.MetricKinds, d.PrimaryMetric.Kind));
        w.WriteEndObject();
        w.WriteStartArray("guardrails");
        foreach (var g in d.Guardrails)
        {
            w.WriteStartObject();
            w.WriteString("metric", g.Metric);
            w.WriteString("direction", ExperimentNames.Of(ExperimentNames.Directions, g.Direction));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("minimum_sample", d.MinimumSample);
        w.WriteString("fallback_variant", d.FallbackVariant);
        w.WriteString("salt", d.Salt);
        w.WriteNumber("version", d.Version);
        w.WriteEndObject();
    }

    /// <summary>One definition as indented UTF-8 JSON text.</summary>
    public static string ToJson(ExperimentDefinition d)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true })) Write(w, d);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Strings(Utf8JsonWriter w, string name, System.Collections.Immutable.ImmutableArray<string> values)
    {
        w.WriteStartArray(name);
        if (!values.IsDefault) foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
