using System.Collections.Immutable;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>Small YAML node helpers shared by the loader.</summary>
internal static class YamlNodes
{
    public static YamlNode? Get(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>A plain <c>~</c>, <c>null</c> or empty scalar, which YAML treats as "no value".</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" };
}

/// <summary>
/// Where in the file the loader is (file, experiment position and id), so every typed read can produce an error
/// that names the field and line without threading those through each call.
/// </summary>
internal readonly record struct Context(string SourceName, int? Index, string? Id)
{
    public ExperimentDefinitionException Error(string? field, string problem, YamlNode? node) =>
        ExperimentDefinitionException.Create(SourceName, Index, Id, field, problem, node is null ? null : (int)node.Start.Line);

    public void CheckKeys(YamlMappingNode mapping, string[] allowed, string? parent)
    {
        foreach (var key in mapping.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? key.ToString();
            if (!allowed.Contains(name))
                throw Error(parent is null ? name : $"{parent}.{name}", $"unknown field '{name}' (allowed: {string.Join(", ", allowed)})", key);
        }
    }

    public string? String(YamlMappingNode m, string key, string field, bool required)
    {
        var node = YamlNodes.Get(m, key);
        if (node is null || YamlNodes.IsNull(node))
            return required ? throw Error(field, "missing", node ?? m) : null;
        if (node is not YamlScalarNode { Value: { } value })
            throw Error(field, "must be a string", node);
        return value;
    }

    public int? Int(YamlMappingNode m, string key, string field, bool required)
    {
        var text = String(m, key, field, required);
        if (text is null)
            return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw Error(field, $"must be an integer but is '{text}'", YamlNodes.Get(m, key));
        return value;
    }

    public double Double(YamlMappingNode m, string key, string field)
    {
        var text = String(m, key, field, required: true)!;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw Error(field, $"must be a number but is '{text}'", YamlNodes.Get(m, key));
        return value;
    }

    public T? Enum<T>(YamlMappingNode m, string key, IReadOnlyDictionary<string, T> names, bool required, string? field = null)
        where T : struct
    {
        field ??= key;
        var text = String(m, key, field, required);
        if (text is null)
            return null;
        if (!names.TryGetValue(text, out var value))
            throw Error(field, $"unknown value '{text}' (allowed: {string.Join(", ", names.Keys)})", YamlNodes.Get(m, key));
        return value;
    }

    public YamlSequenceNode? Sequence(YamlMappingNode m, string key, bool required)
    {
        var node = YamlNodes.Get(m, key);
        if (node is null || YamlNodes.IsNull(node))
            return required ? throw Error(key, "missing", node ?? m) : null;
        return node as YamlSequenceNode ?? throw Error(key, "must be a list", node);
    }

    public ImmutableArray<string> StringList(YamlMappingNode m, string key, string field, bool required)
    {
        var node = YamlNodes.Get(m, key);
        if (node is null || YamlNodes.IsNull(node))
            return required ? throw Error(field, "missing", node ?? m) : [];
        if (node is not YamlSequenceNode seq)
            throw Error(field, "must be a list", node);
        var items = ImmutableArray.CreateBuilder<string>(seq.Children.Count);
        foreach (var item in seq.Children)
        {
            if (item is not YamlScalarNode { Value: { } value } || YamlNodes.IsNull(item))
                throw Error(field, "must be a list of strings", item);
            items.Add(value);
        }
        return items.MoveToImmutable();
    }
}
