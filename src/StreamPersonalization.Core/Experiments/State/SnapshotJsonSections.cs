using System.Text.Json;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// JSON of the contingency, rank and factorial sections of a snapshot (written by <see cref="SnapshotJson"/>). A section
/// that does not apply to the experiment's metric or kind is written as null; non-finite numbers as null.
/// <list type="bullet">
/// <item>top level <c>chiSquare</c>: <c>{statistic, degreesOfFreedom, pValue, minimumExpectedCount, error}</c> (binary metrics);</item>
/// <item>top level <c>factorial</c>: <c>{factors: [{name, levels}], coding: "effect", model: "linear" | "linear-probability",
/// users, residualDegreesOfFreedom, meanSquaredError, coefficients: [{term, estimate, standardError, t, pValue}],
/// effects: [{term, sumOfSquares, degreesOfFreedom, f, pValue}], errors}</c> (factorial experiments);</item>
/// <item>per test <c>countTest</c>: <c>{test: "fisher-exact" | "two-proportion-z" | "none", minimumExpectedCount, pValue, error}</c> (binary);</item>
/// <item>per test <c>mannWhitney</c>: <c>{u, z, pValue, binning: "quarter-octave", error}</c> (continuous).</item>
/// </list>
/// </summary>
internal static class SnapshotJsonSections
{
    public static void ChiSquare(Utf8JsonWriter w, ChiSquareSnapshot? c)
    {
        if (c is null) { w.WriteNull("chiSquare"); return; }
        w.WriteStartObject("chiSquare");
        Number(w, "statistic", c.Statistic);
        w.WriteNumber("degreesOfFreedom", c.DegreesOfFreedom);
        Number(w, "pValue", c.PValue);
        Number(w, "minimumExpectedCount", c.MinimumExpectedCount);
        OptionalString(w, "error", c.Error);
        w.WriteEndObject();
    }

    public static void CountTest(Utf8JsonWriter w, CountTestSnapshot? c)
    {
        if (c is null) { w.WriteNull("countTest"); return; }
        w.WriteStartObject("countTest");
        w.WriteString("test", c.Test);
        Number(w, "minimumExpectedCount", c.MinimumExpectedCount);
        Number(w, "pValue", c.PValue);
        OptionalString(w, "error", c.Error);
        w.WriteEndObject();
    }

    public static void MannWhitney(Utf8JsonWriter w, RankTestSnapshot? r)
    {
        if (r is null) { w.WriteNull("mannWhitney"); return; }
        w.WriteStartObject("mannWhitney");
        Number(w, "u", r.U);
        Number(w, "z", r.Z);
        Number(w, "pValue", r.PValue);
        w.WriteString("binning", "quarter-octave");
        OptionalString(w, "error", r.Error);
        w.WriteEndObject();
    }

    public static void Factorial(Utf8JsonWriter w, FactorialSnapshot? f)
    {
        if (f is null) { w.WriteNull("factorial"); return; }
        w.WriteStartObject("factorial");
        w.WriteStartArray("factors");
        foreach (var factor in f.Factors)
        {
            w.WriteStartObject();
            w.WriteString("name", factor.Name);
            Strings(w, "levels", factor.Levels);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("coding", f.Coding);
        w.WriteString("model", f.Model);
        w.WriteNumber("users", f.Users);
        w.WriteNumber("residualDegreesOfFreedom", f.ResidualDegreesOfFreedom);
        Number(w, "meanSquaredError", f.MeanSquaredError);
        w.WriteStartArray("coefficients");
        foreach (var c in f.Coefficients)
        {
            w.WriteStartObject();
            w.WriteString("term", c.Term);
            Number(w, "estimate", c.Estimate);
            Number(w, "standardError", c.StandardError);
            Number(w, "t", c.T);
            Number(w, "pValue", c.PValue);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("effects");
        foreach (var e in f.Effects)
        {
            w.WriteStartObject();
            w.WriteString("term", e.Term);
            Number(w, "sumOfSquares", e.SumOfSquares);
            w.WriteNumber("degreesOfFreedom", e.DegreesOfFreedom);
            Number(w, "f", e.F);
            Number(w, "pValue", e.PValue);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Strings(w, "errors", f.Errors);
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
