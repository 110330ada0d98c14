using System.Text;
using System.Text.Json;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Writes a snapshot as stable, readable JSON (camelCase, fixed field order, indented) for the compacted
/// <c>experiment-state</c> topic and <c>GET /v1/experiments/{id}</c>. Top level: <c>schema</c> (1), <c>experimentId</c>,
/// <c>version</c>, <c>seed</c>, <c>kind</c>, <c>metric</c>, <c>arms</c>, <c>tests</c>, <c>srm</c>, <c>alerts</c>, <c>errors</c>.
/// Non-finite numbers are written as null because JSON has no NaN; the accompanying error codes say why.
/// Also <c>chiSquare</c> and <c>factorial</c> after <c>srm</c>, and <c>countTest</c> and <c>mannWhitney</c> per test
/// (layouts in <see cref="SnapshotJsonSections"/>; null where they do not apply).
/// </summary>
public static class SnapshotJson
{
    /// <summary>UTF-8 JSON bytes.</summary>
    public static byte[] ToUtf8(ExperimentSnapshot s)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", s.Schema);
            w.WriteString("experimentId", s.ExperimentId);
            w.WriteNumber("version", s.Version);
            w.WriteString("seed", s.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("kind", s.Kind.ToString().ToLowerInvariant());
            w.WriteString("metric", s.Metric.ToString().ToLowerInvariant());
            w.WriteStartArray("arms");
            foreach (var a in s.Arms) Arm(w, a);
            w.WriteEndArray();
            w.WriteStartArray("tests");
            foreach (var t in s.Tests) Test(w, t);
            w.WriteEndArray();
            w.WriteStartObject("srm");
            Number(w, "statistic", s.Srm.Statistic);
            w.WriteNumber("degreesOfFreedom", s.Srm.DegreesOfFreedom);
            Number(w, "pValue", s.Srm.PValue);
            w.WriteBoolean("fired", s.Srm.Fired);
            OptionalString(w, "error", s.Srm.Error);
            w.WriteEndObject();
            SnapshotJsonSections.ChiSquare(w, s.ChiSquare);
            SnapshotJsonSections.Factorial(w, s.Factorial);
            w.WriteStartArray("alerts");
            foreach (var a in s.Alerts)
            {
                w.WriteStartObject();
                w.WriteString("code", a.Code);
                w.WriteString("severity", a.Severity);
                w.WriteString("message", a.Message);
                OptionalString(w, "subject", a.Subject);
                if (a.RaisedAtVersion is { } since) w.WriteNumber("raisedAtVersion", since); else w.WriteNull("raisedAtVersion");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Strings(w, "errors", s.Errors);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>The JSON as a string.</summary>
    public static string ToJson(ExperimentSnapshot s) => Encoding.UTF8.GetString(ToUtf8(s));

    private static void Arm(Utf8JsonWriter w, ArmSnapshot a)
    {
        w.WriteStartObject();
        w.WriteString("variantId", a.VariantId);
        w.WriteNumber("users", a.Users);
        w.WriteNumber("conversions", a.Conversions);
        EstimateObject(w, "conversionRate", a.ConversionRate);
        Number(w, "mean", a.Mean);
        Number(w, "variance", a.Variance);
        w.WriteStartObject("posterior");
        w.WriteString("family", a.Posterior);
        Number(w, "mean", a.PosteriorMean.Value);
        Number(w, "lower", a.PosteriorMean.Lower);
        Number(w, "upper", a.PosteriorMean.Upper);
        w.WriteEndObject();
        Number(w, "probabilityBest", a.ProbabilityBest);
        Number(w, "expectedLoss", a.ExpectedLoss);
        if (a.Allocation is { } alloc) Number(w, "allocation", alloc); else w.WriteNull("allocation");
        Strings(w, "errors", a.Errors);
        w.WriteEndObject();
    }

    private static void Test(Utf8JsonWriter w, ComparisonSnapshot t)
    {
        w.WriteStartObject();
        w.WriteString("variantId", t.VariantId);
        w.WriteString("controlVariantId", t.ControlVariantId);
        w.WriteString("test", t.Test);
        Number(w, "statistic", t.Statistic);
        Number(w, "pValue", t.PValue);
        EstimateObject(w, "difference", t.Difference);
        Number(w, "holmPValue", t.HolmPValue);
        Number(w, "bhPValue", t.BhPValue);
        EstimateObject(w, "cupedDifference", t.CupedDifference);
        Number(w, "cupedPValue", t.CupedPValue);
        Number(w, "cupedVarianceReduction", t.CupedVarianceReduction);
        w.WriteStartObject("msprt");
        Number(w, "pValue", t.MsprtPValue);
        w.WriteNumber("looks", t.MsprtLooks);
        w.WriteString("cadence", "per-applied-delta");
        w.WriteEndObject();
        SnapshotJsonSections.CountTest(w, t.CountTest);
        SnapshotJsonSections.MannWhitney(w, t.MannWhitney);
        Strings(w, "errors", t.Errors);
        w.WriteEndObject();
    }

    private static void EstimateObject(Utf8JsonWriter w, string name, Estimate e)
    {
        w.WriteStartObject(name);
        Number(w, "value", e.Value);
        Number(w, "lower", e.Lower);
        Number(w, "upper", e.Upper);
        OptionalString(w, "error", e.Error);
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    private static void OptionalString(Utf8JsonWriter w, string name, string? v)
    {
        if (v is null) w.WriteNull(name); else w.WriteString(name, v);
    }

    private static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
