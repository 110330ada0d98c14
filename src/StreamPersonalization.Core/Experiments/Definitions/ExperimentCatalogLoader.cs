using System.Collections.Immutable;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// Reads <c>experiments.yaml</c>. Like the segment catalog loader it walks the YAML node tree rather than
/// deserializing a DTO, so every error names the file, experiment, field and line, and unknown keys are rejected
/// (a typo such as <c>fallback:</c> must not silently leave the default in place). Structural problems (types,
/// unknown keys and enum spellings) are reported here; semantic rules are the shared
/// <see cref="ExperimentDefinitionValidator"/> so the admin API rejects exactly the same definitions.
/// </summary>
public static class ExperimentCatalogLoader
{
    private static readonly string[] TopLevelKeys = ["version", "experiments"];
    private static readonly string[] ExperimentKeys =
    [
        "id", "description", "kind", "status", "variants", "factors", "targeting", "primary_metric", "guardrails",
        "minimum_sample", "fallback_variant", "salt", "version",
    ];
    private static readonly string[] VariantKeys = ["id", "weight"];
    private static readonly string[] FactorKeys = ["name", "levels"];
    private static readonly string[] TargetingKeys = ["segments", "countries", "devices"];
    private static readonly string[] MetricKeys = ["name", "kind"];
    private static readonly string[] GuardrailKeys = ["metric", "direction"];

    /// <summary>Reads and parses a catalog file; I/O failures are reported as <see cref="ExperimentDefinitionException"/> too.</summary>
    public static ExperimentCatalog LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentDefinitionException($"{path}: cannot read experiment catalog: {e.Message}", path, innerException: e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses catalog YAML; <paramref name="sourceName"/> is used in error messages.</summary>
    public static ExperimentCatalog Parse(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var root = LoadRoot(yaml, sourceName);
        var top = new Context(sourceName, null, null);
        top.CheckKeys(root, TopLevelKeys, null);
        var version = top.Int(root, "version", "version", required: true) ?? 0;
        if (version < 1)
            throw top.Error("version", $"must be a positive integer but is {version}", root);
        var listNode = YamlNodes.Get(root, "experiments");
        if (listNode is null || YamlNodes.IsNull(listNode))
            throw top.Error("experiments", "missing 'experiments' list", root);
        if (listNode is not YamlSequenceNode sequence)
            throw top.Error("experiments", "must be a list", listNode);

        var experiments = new List<ExperimentDefinition>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var experiment = ParseExperiment(sequence.Children[i], i, sourceName);
            if (seen.TryGetValue(experiment.Id, out var first))
                throw new Context(sourceName, i, experiment.Id).Error("id", $"duplicate id (already used by experiment #{first})", sequence.Children[i]);
            seen.Add(experiment.Id, i);
            experiments.Add(experiment);
        }
        return new ExperimentCatalog(version, experiments);
    }

    /// <summary>
    /// Parses one experiment definition (a YAML or JSON mapping with the same fields as an entry of the catalog's
    /// <c>experiments</c> list), as the admin API receives it; errors name the field like the file loader's.
    /// </summary>
    public static ExperimentDefinition ParseDefinition(string document, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(document);
        return ParseExperiment(LoadDocument(document, sourceName), 0, sourceName);
    }

    private static YamlMappingNode LoadRoot(string yaml, string sourceName) =>
        LoadDocument(yaml, sourceName) as YamlMappingNode
            ?? throw new ExperimentDefinitionException($"{sourceName}: catalog must be a mapping with 'version' and 'experiments'", sourceName);

    private static YamlNode LoadDocument(string yaml, string sourceName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ExperimentDefinitionException($"{sourceName}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", sourceName, innerException: e);
        }
        if (stream.Documents.Count != 1)
            throw new ExperimentDefinitionException($"{sourceName}: expected one YAML document but found {stream.Documents.Count}", sourceName);
        return stream.Documents[0].RootNode;
    }

    private static ExperimentDefinition ParseExperiment(YamlNode node, int index, string sourceName)
    {
        var anonymous = new Context(sourceName, index, null);
        if (node is not YamlMappingNode m)
            throw anonymous.Error(null, "must be a mapping with 'id', 'kind', 'variants' or 'factors', ...", node);
        var id = anonymous.String(m, "id", "id", required: true)!;
        var c = new Context(sourceName, index, id);
        c.CheckKeys(m, ExperimentKeys, null);

        var kind = c.Enum(m, "kind", ExperimentNames.Kinds, required: true)!.Value;
        ImmutableArray<FactorDefinition> factors = [];
        ImmutableArray<VariantDefinition> variants;
        if (kind == ExperimentKind.Factorial)
        {
            if (YamlNodes.Get(m, "variants") is { } given)
                throw c.Error("variants", "a factorial experiment's variants are the product of its 'factors'; remove 'variants'", given);
            factors = ParseFactors(m, c);
            variants = ExperimentDefinition.FactorialCells(factors);
        }
        else
        {
            variants = ParseVariants(m, c);
            if (YamlNodes.Get(m, "factors") is { } f)
                throw c.Error("factors", $"only factorial experiments have factors; use 'variants' for a {ExperimentNames.Of(ExperimentNames.Kinds, kind)} experiment", f);
        }

        var definition = new ExperimentDefinition
        {
            Id = id,
            Description = c.String(m, "description", "description", required: false) ?? "",
            Kind = kind,
            Status = c.Enum(m, "status", ExperimentNames.Statuses, required: false) ?? ExperimentStatus.Draft,
            Variants = variants,
            Factors = factors,
            Targeting = ParseTargeting(m, c),
            PrimaryMetric = ParseMetric(m, c),
            Guardrails = ParseGuardrails(m, c),
            MinimumSample = c.Int(m, "minimum_sample", "minimum_sample", required: false) ?? ExperimentDefinition.DefaultMinimumSample,
            FallbackVariant = c.String(m, "fallback_variant", "fallback_variant", required: true)!,
            Salt = c.String(m, "salt", "salt", required: false) ?? id,
            Version = c.Int(m, "version", "version", required: false) ?? 1,
        };
        ExperimentDefinitionValidator.Validate(definition, sourceName, index);
        return definition;
    }

    private static ImmutableArray<VariantDefinition> ParseVariants(YamlMappingNode m, Context c)
    {
        var items = c.Sequence(m, "variants", required: true)!;
        var variants = ImmutableArray.CreateBuilder<VariantDefinition>(items.Children.Count);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var field = $"variants[{i}]";
            if (items.Children[i] is not YamlMappingNode v)
                throw c.Error(field, "must be a mapping with 'id' and 'weight'", items.Children[i]);
            c.CheckKeys(v, VariantKeys, field);
            variants.Add(new VariantDefinition(c.String(v, "id", $"{field}.id", required: true)!, c.Double(v, "weight", $"{field}.weight")));
        }
        return variants.MoveToImmutable();
    }

    private static ImmutableArray<FactorDefinition> ParseFactors(YamlMappingNode m, Context c)
    {
        var items = c.Sequence(m, "factors", required: true)!;
        var factors = ImmutableArray.CreateBuilder<FactorDefinition>(items.Children.Count);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var field = $"factors[{i}]";
            if (items.Children[i] is not YamlMappingNode f)
                throw c.Error(field, "must be a mapping with 'name' and 'levels'", items.Children[i]);
            c.CheckKeys(f, FactorKeys, field);
            var name = c.String(f, "name", $"{field}.name", required: true)!;
            factors.Add(new FactorDefinition(name, c.StringList(f, "levels", $"{field}.levels", required: true)));
        }
        return factors.MoveToImmutable();
    }

    private static TargetingRule ParseTargeting(YamlMappingNode m, Context c)
    {
        var node = YamlNodes.Get(m, "targeting");
        if (node is null || YamlNodes.IsNull(node))
            return TargetingRule.Everyone;
        if (node is not YamlMappingNode t)
            throw c.Error("targeting", "must be a mapping with 'segments', 'countries' and/or 'devices'", node);
        c.CheckKeys(t, TargetingKeys, "targeting");
        return new TargetingRule(
            c.StringList(t, "segments", "targeting.segments", required: false),
            c.StringList(t, "countries", "targeting.countries", required: false),
            c.StringList(t, "devices", "targeting.devices", required: false));
    }

    private static MetricDefinition ParseMetric(YamlMappingNode m, Context c)
    {
        var node = YamlNodes.Get(m, "primary_metric");
        if (node is null)
            throw c.Error("primary_metric", "missing", m);
        if (node is not YamlMappingNode p)
            throw c.Error("primary_metric", "must be a mapping with 'name' and 'kind'", node);
        c.CheckKeys(p, MetricKeys, "primary_metric");
        return new MetricDefinition(
            c.String(p, "name", "primary_metric.name", required: true)!,
            c.Enum(p, "kind", ExperimentNames.MetricKinds, required: true, field: "primary_metric.kind")!.Value);
    }

    private static ImmutableArray<GuardrailDefinition> ParseGuardrails(YamlMappingNode m, Context c)
    {
        var items = c.Sequence(m, "guardrails", required: false);
        if (items is null)
            return [];
        var guardrails = ImmutableArray.CreateBuilder<GuardrailDefinition>(items.Children.Count);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var field = $"guardrails[{i}]";
            if (items.Children[i] is not YamlMappingNode g)
                throw c.Error(field, "must be a mapping with 'metric' and 'direction'", items.Children[i]);
            c.CheckKeys(g, GuardrailKeys, field);
            guardrails.Add(new GuardrailDefinition(
                c.String(g, "metric", $"{field}.metric", required: true)!,
                c.Enum(g, "direction", ExperimentNames.Directions, required: true, field: $"{field}.direction")!.Value));
        }
        return guardrails.MoveToImmutable();
    }
}
