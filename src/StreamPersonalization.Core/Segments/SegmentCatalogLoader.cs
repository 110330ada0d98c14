using System.Globalization;
using System.Text.RegularExpressions;
using StreamPersonalization.Core.Rules;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamPersonalization.Core.Segments;

/// <summary>
/// Reads <c>segments.yaml</c>. Walks the YAML node tree (rather than deserializing into a DTO) so every
/// error can name the field and YAML line, unknown keys are rejected (a typo like <c>rules:</c> must not
/// silently drop a rule), and all rules are compiled up front so a bad catalog never reaches the hot path.
/// </summary>
public static partial class SegmentCatalogLoader
{
    private static readonly string[] TopLevelKeys = ["version", "segments"];
    private static readonly string[] SegmentKeys = ["id", "description", "rule"];

    [GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial Regex IdPattern();

    /// <summary>Reads and parses a catalog file; I/O failures are reported as <see cref="SegmentCatalogException"/> too.</summary>
    public static SegmentCatalog LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SegmentCatalogException($"{path}: cannot read segment catalog: {e.Message}", path, innerException: e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses catalog YAML; <paramref name="sourceName"/> is used in error messages.</summary>
    public static SegmentCatalog Parse(string yamlText, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        var root = LoadRoot(yamlText, sourceName);
        CheckKeys(root, TopLevelKeys, sourceName, null, null);
        var version = ParseVersion(root, sourceName);
        var segmentsNode = Get(root, "segments");
        if (segmentsNode is null or YamlScalarNode { Value: null or "" or "~" or "null" })
            throw Error(sourceName, "missing 'segments' list", "segments", node: root);
        if (segmentsNode is not YamlSequenceNode sequence)
            throw Error(sourceName, "'segments' must be a list", "segments", node: segmentsNode);
        if (sequence.Children.Count > SegmentCatalog.MaxSegments)
            throw Error(sourceName, $"{sequence.Children.Count} segments exceed the limit of {SegmentCatalog.MaxSegments} (membership is a 64-bit mask)", "segments", node: sequence);

        var segments = new List<SegmentDefinition>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var segment = ParseSegment(sequence.Children[i], i, sourceName);
            if (seen.TryGetValue(segment.Id, out var first))
                throw Error(sourceName, $"duplicate id (already used by segment #{first})", "id", i, segment.Id, sequence.Children[i]);
            seen.Add(segment.Id, i);
            segments.Add(segment);
        }
        return new SegmentCatalog(version, segments);
    }

    private static YamlMappingNode LoadRoot(string yamlText, string sourceName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yamlText));
        }
        catch (YamlException e)
        {
            throw new SegmentCatalogException($"{sourceName}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", sourceName, innerException: e);
        }
        if (stream.Documents.Count == 0)
            throw new SegmentCatalogException($"{sourceName}: catalog is empty", sourceName);
        if (stream.Documents.Count > 1)
            throw new SegmentCatalogException($"{sourceName}: expected one YAML document but found {stream.Documents.Count}", sourceName);
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new SegmentCatalogException($"{sourceName}: catalog must be a mapping with 'version' and 'segments'", sourceName);
    }

    private static int ParseVersion(YamlMappingNode root, string sourceName)
    {
        var node = Get(root, "version");
        if (node is null)
            throw Error(sourceName, "missing 'version'", "version", node: root);
        if (node is not YamlScalarNode { Value: { } text }
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version < 1)
            throw Error(sourceName, $"'version' must be a positive integer but is '{(node as YamlScalarNode)?.Value}'", "version", node: node);
        return version;
    }

    private static SegmentDefinition ParseSegment(YamlNode node, int index, string sourceName)
    {
        if (node is not YamlMappingNode mapping)
            throw Error(sourceName, "must be a mapping with 'id' and 'rule'", null, index, node: node);
        var id = RequiredString(mapping, "id", index, null, sourceName);
        if (!IdPattern().IsMatch(id))
            throw Error(sourceName, $"invalid id '{id}' (allowed: lowercase letters, digits, '_' and '-')", "id", index, id, Get(mapping, "id"));
        CheckKeys(mapping, SegmentKeys, sourceName, index, id);
        var description = OptionalString(mapping, "description", index, id, sourceName) ?? "";
        var ruleText = RequiredString(mapping, "rule", index, id, sourceName);
        CompiledRule rule;
        try
        {
            rule = RuleCompiler.Compile(ruleText);
        }
        catch (RuleSyntaxException e)
        {
            throw Error(sourceName, $"invalid rule: {e.Message}", "rule", index, id, Get(mapping, "rule"), e);
        }
        return new SegmentDefinition(id, description, rule, index);
    }

    private static string RequiredString(YamlMappingNode mapping, string key, int index, string? id, string sourceName)
    {
        var value = OptionalString(mapping, key, index, id, sourceName);
        if (string.IsNullOrWhiteSpace(value))
            throw Error(sourceName, $"missing '{key}'", key, index, id, mapping);
        return value;
    }

    private static string? OptionalString(YamlMappingNode mapping, string key, int index, string? id, string sourceName)
    {
        var node = Get(mapping, key);
        if (node is null)
            return null;
        if (node is not YamlScalarNode scalar)
            throw Error(sourceName, $"'{key}' must be a string", key, index, id, node);
        return scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null" ? null : scalar.Value;
    }

    private static YamlNode? Get(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static void CheckKeys(YamlMappingNode mapping, string[] allowed, string sourceName, int? index, string? id)
    {
        foreach (var key in mapping.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? key.ToString();
            if (!allowed.Contains(name))
                throw Error(sourceName, $"unknown field '{name}' (allowed: {string.Join(", ", allowed)})", name, index, id, key);
        }
    }

    private static SegmentCatalogException Error(string sourceName, string problem, string? field, int? index = null,
        string? id = null, YamlNode? node = null, Exception? inner = null)
    {
        var where = index is null ? "" : id is null ? $"segment #{index}: " : $"segment #{index} ('{id}'): ";
        var fieldText = field is null ? "" : $"field '{field}': ";
        var line = node is null ? "" : $" (line {node.Start.Line})";
        return new SegmentCatalogException($"{sourceName}: {where}{fieldText}{problem}{line}", sourceName, index, id, field, inner);
    }
}
