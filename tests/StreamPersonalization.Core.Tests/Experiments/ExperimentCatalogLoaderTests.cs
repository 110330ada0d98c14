using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Core.Tests.Experiments;

public class ExperimentCatalogLoaderTests
{
    [Fact]
    public void LoadFile_DefaultConfig_LoadsAllExperiments()
    {
        var catalog = ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

        Assert.Equal(1, catalog.Version);
        Assert.Equal(["exp-checkout-1", "checkout_button", "banner", "recommendation_algo"], catalog.Experiments.Select(e => e.Id));

        var demo = catalog["exp-checkout-1"];
        Assert.Equal(ExperimentKind.Fixed, demo.Kind);
        Assert.Equal(ExperimentStatus.Running, demo.Status);
        Assert.Equal(["control", "treatment"], demo.Variants.Select(v => v.Id));

        var checkout = catalog["checkout_button"];
        Assert.Equal([50.0, 50.0], checkout.Variants.Select(v => v.Weight));
        Assert.Equal(new MetricDefinition("conversion", MetricKind.Binary), checkout.PrimaryMetric);
        Assert.Equal(new GuardrailDefinition("revenue", GuardrailDirection.MustNotDecrease), Assert.Single(checkout.Guardrails));
        Assert.Equal("checkout_button", checkout.Salt);
        Assert.Equal("control", checkout.FallbackVariant);
        Assert.Equal(1000, checkout.MinimumSample);

        var banner = catalog["banner"];
        Assert.Equal(ExperimentKind.Factorial, banner.Kind);
        Assert.Equal(
            ["color=red,position=top", "color=red,position=side", "color=blue,position=top", "color=blue,position=side"],
            banner.Variants.Select(v => v.Id));
        Assert.Equal(["desktop", "tablet"], banner.Targeting.Devices.ToArray());

        var bandit = catalog["recommendation_algo"];
        Assert.Equal(ExperimentKind.Bandit, bandit.Kind);
        Assert.Equal(3, bandit.Variants.Length);
        Assert.Equal(MetricKind.Continuous, bandit.PrimaryMetric.Kind);
        Assert.Equal(["active"], bandit.Targeting.Segments.ToArray());
    }

    [Fact]
    public void Parse_Defaults_AppliedWhenOmitted()
    {
        var catalog = ExperimentCatalogLoader.Parse("""
            version: 2
            experiments:
              - id: minimal
                kind: fixed
                variants: [{ id: a, weight: 1 }, { id: b, weight: 3 }]
                primary_metric: { name: conversion, kind: binary }
                fallback_variant: a
            """, "test.yaml");

        var e = catalog["minimal"];
        Assert.Equal(2, catalog.Version);
        Assert.Equal(ExperimentStatus.Draft, e.Status);
        Assert.Equal(ExperimentDefinition.DefaultMinimumSample, e.MinimumSample);
        Assert.Equal("minimal", e.Salt);
        Assert.Equal(1, e.Version);
        Assert.Same(TargetingRule.Everyone, e.Targeting);
        Assert.Empty(e.Guardrails);
        Assert.False(catalog.TryGet("other", out _));
    }

    [Fact]
    public void Parse_FallbackNotAVariant_MessageNamesFileExperimentAndField()
    {
        var error = Invalid(Second("fallback_variant: control", "fallback_variant: blue"));

        Assert.Equal("test.yaml: experiment #1 ('checkout'): field 'fallback_variant': 'blue' is not one of the variants [control, treatment]", error.Message);
        Assert.Equal("test.yaml", error.SourceName);
        Assert.Equal(1, error.ExperimentIndex);
        Assert.Equal("checkout", error.ExperimentId);
        Assert.Equal("fallback_variant", error.Field);
    }

    public static TheoryData<string, string, string, string> InvalidCases => new()
    {
        // description, text in the second experiment to replace, replacement, expected field
        { "unknown experiment key", "fallback_variant: control", "fallback_variant: control\n    fallback: control", "fallback" },
        { "unknown variant key", "{ id: treatment, weight: 50 }", "{ id: treatment, weight: 50, colour: red }", "variants[1].colour" },
        { "bad id", "id: checkout", "id: Checkout!", "id" },
        { "missing id", "id: checkout", "description: no id", "id" },
        { "empty variants", "variants: [{ id: control, weight: 50 }, { id: treatment, weight: 50 }]", "variants: []", "variants" },
        { "one variant", "variants: [{ id: control, weight: 50 }, { id: treatment, weight: 50 }]", "variants: [{ id: control, weight: 1 }]", "variants" },
        { "zero weight", "{ id: treatment, weight: 50 }", "{ id: treatment, weight: 0 }", "variants[1].weight" },
        { "negative weight", "{ id: treatment, weight: 50 }", "{ id: treatment, weight: -2 }", "variants[1].weight" },
        { "non-numeric weight", "{ id: treatment, weight: 50 }", "{ id: treatment, weight: lots }", "variants[1].weight" },
        { "duplicate variant", "{ id: treatment, weight: 50 }", "{ id: control, weight: 50 }", "variants[1].id" },
        { "unknown kind", "kind: fixed", "kind: split", "kind" },
        { "unknown status", "status: running", "status: live", "status" },
        { "unknown metric kind", "kind: binary", "kind: count", "primary_metric.kind" },
        { "missing primary metric", "primary_metric: { name: conversion, kind: binary }", "", "primary_metric" },
        { "unknown guardrail direction", "direction: must_not_decrease", "direction: down", "guardrails[0].direction" },
        { "unsupported guardrail metric", "metric: revenue", "metric: bounce_rate", "guardrails[0].metric" },
        { "minimum sample zero", "minimum_sample: 100", "minimum_sample: 0", "minimum_sample" },
        { "minimum sample not a number", "minimum_sample: 100", "minimum_sample: many", "minimum_sample" },
        { "factors on a fixed experiment", "fallback_variant: control", "fallback_variant: control\n    factors: [{ name: color, levels: [red, blue] }]", "factors" },
        { "duplicate experiment id", "id: checkout", "id: banner", "id" },
        { "unknown targeting key", "status: running", "status: running\n    targeting: { region: eu }", "targeting.region" },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Parse_InvalidExperiment_MessageNamesField(string description, string find, string replace, string field)
    {
        var error = Invalid(Second(find, replace));

        Assert.True(field == error.Field, $"{description}: expected field '{field}' but got '{error.Field}' ({error.Message})");
        Assert.Contains($"field '{field}'", error.Message);
        Assert.StartsWith("test.yaml: experiment #1", error.Message);
    }

    public static TheoryData<string, string, string, string> InvalidFactorialCases => new()
    {
        { "one level", "{ name: size, levels: [s, l] }", "{ name: size, levels: [s] }", "factors[1].levels" },
        { "duplicate level", "{ name: size, levels: [s, l] }", "{ name: size, levels: [s, s] }", "factors[1].levels" },
        { "duplicate factor", "{ name: size, levels: [s, l] }", "{ name: color, levels: [s, l] }", "factors[1].name" },
        { "variants given", "fallback_variant: color=red,size=s", "fallback_variant: color=red,size=s\n    variants: [{ id: a, weight: 1 }]", "variants" },
        { "no factors", "factors: [{ name: color, levels: [red, blue] }, { name: size, levels: [s, l] }]", "factors: []", "factors" },
        { "more than 64 cells", "{ name: size, levels: [s, l] }",
            "{ name: size, levels: [s, l] }, { name: a, levels: [a1, a2, a3, a4] }, { name: b, levels: [b1, b2, b3, b4, b5] }", "factors" },
        { "fallback not a cell", "fallback_variant: color=red,size=s", "fallback_variant: red", "fallback_variant" },
    };

    [Theory]
    [MemberData(nameof(InvalidFactorialCases))]
    public void Parse_InvalidFactorial_MessageNamesField(string description, string find, string replace, string field)
    {
        var yaml = Valid.Replace(SecondExperiment, Factorial.Replace(find, replace));
        var error = Invalid(yaml);

        Assert.True(field == error.Field, $"{description}: expected field '{field}' but got '{error.Field}' ({error.Message})");
        Assert.Contains($"experiment #1 ('grid'): field '{field}'", error.Message);
    }

    [Fact]
    public void Parse_FactorialWithinLimit_Has64Cells()
    {
        var yaml = Valid.Replace(SecondExperiment, Factorial.Replace("{ name: size, levels: [s, l] }",
            "{ name: size, levels: [s, l] }, { name: a, levels: [a1, a2, a3, a4] }, { name: b, levels: [b1, b2, b3, b4] }")
            .Replace("fallback_variant: color=red,size=s", "fallback_variant: color=blue,size=l,a=a4,b=b1"));

        Assert.Equal(64, ExperimentCatalogLoader.Parse(yaml, "test.yaml")["grid"].Variants.Length);
    }

    [Theory]
    [InlineData("version: 0\nexperiments: []", "version")]
    [InlineData("version: 1", "experiments")]
    [InlineData("version: 1\nexperiments: {}", "experiments")]
    [InlineData("version: 1\nexperiments: []\nsegments: []", "segments")]
    public void Parse_InvalidTopLevel_MessageNamesField(string yaml, string field)
    {
        var error = Invalid(yaml);

        Assert.Equal(field, error.Field);
        Assert.StartsWith($"test.yaml: field '{field}'", error.Message);
    }

    [Fact]
    public void Parse_MalformedYaml_ReportsLine()
    {
        var error = Invalid("version: 1\nexperiments: [\n");

        Assert.Contains("invalid YAML at line", error.Message);
    }

    [Fact]
    public void LoadFile_MissingFile_ThrowsDefinitionException()
    {
        var error = Assert.Throws<ExperimentDefinitionException>(() => ExperimentCatalogLoader.LoadFile("/nonexistent/experiments.yaml"));

        Assert.StartsWith("/nonexistent/experiments.yaml: cannot read", error.Message);
    }

    private const string SecondExperiment = """
          - id: checkout
            kind: fixed
            status: running
            variants: [{ id: control, weight: 50 }, { id: treatment, weight: 50 }]
            primary_metric: { name: conversion, kind: binary }
            guardrails: [{ metric: revenue, direction: must_not_decrease }]
            minimum_sample: 100
            fallback_variant: control
        """;

    private const string Factorial = """
          - id: grid
            kind: factorial
            factors: [{ name: color, levels: [red, blue] }, { name: size, levels: [s, l] }]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: color=red,size=s
        """;

    private static readonly string Valid = $$"""
        version: 1
        experiments:
          - id: banner
            kind: fixed
            variants: [{ id: a, weight: 1 }, { id: b, weight: 1 }]
            primary_metric: { name: ctr, kind: binary }
            fallback_variant: a
        {{SecondExperiment}}
        """;

    private static string Second(string find, string replace)
    {
        Assert.Contains(find, SecondExperiment);
        return Valid.Replace(SecondExperiment, SecondExperiment.Replace(find, replace));
    }

    private static ExperimentDefinitionException Invalid(string yaml) =>
        Assert.Throws<ExperimentDefinitionException>(() => ExperimentCatalogLoader.Parse(yaml, "test.yaml"));
}
