using System.Globalization;
using System.Text;

namespace StreamPersonalization.Node.Metrics;

/// <summary>
/// Formats metric families in the Prometheus text exposition format 0.0.4: per family <c># HELP</c> and <c># TYPE</c>
/// lines, then one line per sample. Instrument names become Prometheus names (dots and other invalid characters turn
/// into underscores; counters end in <c>_total</c>); label values are escaped (backslash, double quote, newline).
/// Output is deterministic: families by name, labels by name, samples by label values (integers numerically).
/// </summary>
public static class PrometheusTextWriter
{
    /// <summary>The Content-Type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IEnumerable<MetricFamily> families)
    {
        var text = new StringBuilder();
        foreach (var (name, family) in families.Select(f => (Name: ExposedName(f), Family: f)).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(family.Description)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(family.Kind == MetricKind.Counter ? "counter" : "gauge").Append('\n');
            var samples = family.Samples.Select(s => (Labels: SortedLabels(s), s.Value)).OrderBy(s => s.Labels, LabelSetComparer.Instance);
            foreach (var sample in samples)
            {
                text.Append(name);
                if (sample.Labels.Count > 0)
                {
                    text.Append('{');
                    for (var i = 0; i < sample.Labels.Count; i++)
                    {
                        if (i > 0) text.Append(',');
                        text.Append(sample.Labels[i].Key).Append("=\"").Append(EscapeLabelValue(sample.Labels[i].Value)).Append('"');
                    }
                    text.Append('}');
                }
                text.Append(' ').Append(FormatValue(sample.Value)).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>The Prometheus name of a family: sanitized, with <c>_total</c> appended to counters.</summary>
    public static string ExposedName(MetricFamily family)
    {
        var name = Sanitize(family.Name, allowColon: true);
        return family.Kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>[a-zA-Z_:][a-zA-Z0-9_:]* for metric names, no colon for label names: anything else becomes '_'.</summary>
    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0) return "_";
        var chars = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0])) chars.Append('_');
        foreach (var c in name)
            chars.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        return chars.ToString();
    }

    private static List<KeyValuePair<string, string>> SortedLabels(MetricSample sample) =>
        sample.Labels.Select(l => KeyValuePair.Create(Sanitize(l.Key, allowColon: false), l.Value)).OrderBy(l => l.Key, StringComparer.Ordinal).ToList();

    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    private static string EscapeHelp(string help) => help.Replace("\\", @"\\").Replace("\n", @"\n");

    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Orders label sets pair by pair: name, then value (numerically when both are integers, e.g. partitions 2 before 10).</summary>
    private sealed class LabelSetComparer : IComparer<List<KeyValuePair<string, string>>>
    {
        public static readonly LabelSetComparer Instance = new();

        public int Compare(List<KeyValuePair<string, string>>? x, List<KeyValuePair<string, string>>? y)
        {
            for (var i = 0; i < Math.Min(x!.Count, y!.Count); i++)
            {
                var byName = string.CompareOrdinal(x[i].Key, y[i].Key);
                if (byName != 0) return byName;
                // Numbers (in numeric order) before text (in ordinal order): a total order even when a label mixes both.
                var xIsNumber = long.TryParse(x[i].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a);
                var yIsNumber = long.TryParse(y[i].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b);
                if (xIsNumber != yIsNumber) return xIsNumber ? -1 : 1;
                if (xIsNumber && a != b) return a.CompareTo(b);
                var byValue = string.CompareOrdinal(x[i].Value, y[i].Value);
                if (byValue != 0) return byValue;
            }
            return x.Count.CompareTo(y.Count);
        }
    }
}
