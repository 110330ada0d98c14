using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Tests.Experiments;

public class ExperimentDefinitionValidateTests
{
    [Fact]
    public void Validate_ValidDefinitions_DoesNotThrow()
    {
        ExperimentFixtures.Fixed().Validate();
        ExperimentFixtures.Factorial().Validate();
        ExperimentFixtures.Bandit().Validate();
    }

    [Fact]
    public void Validate_FallbackNotAVariant_SameMessageWithoutFile()
    {
        var error = Assert.Throws<ExperimentDefinitionException>(() => (ExperimentFixtures.Fixed("checkout") with { FallbackVariant = "blue" }).Validate());

        Assert.Equal("experiment 'checkout': field 'fallback_variant': 'blue' is not one of the variants [control, treatment]", error.Message);
        Assert.Null(error.SourceName);
        Assert.Null(error.ExperimentIndex);
    }

    [Fact]
    public void Validate_UnsupportedGuardrailMetric_MessageListsAllowedMetrics()
    {
        var error = Assert.Throws<ExperimentDefinitionException>(() =>
            (ExperimentFixtures.Fixed("checkout") with { Guardrails = [new("revenue", GuardrailDirection.MustNotDecrease), new("bounce_rate", GuardrailDirection.MustNotIncrease)] }).Validate());

        Assert.Equal("experiment 'checkout': field 'guardrails[1].metric': unsupported guardrail metric 'bounce_rate' (allowed: conversion, revenue)", error.Message);
    }

    public static TheoryData<string, ExperimentDefinition, string> Cases => new()
    {
        { "bad id", ExperimentFixtures.Fixed() with { Id = "Bad Id" }, "id" },
        { "empty variants", ExperimentFixtures.Fixed() with { Variants = [] }, "variants" },
        { "zero weight", ExperimentFixtures.Fixed("x", ("a", 1), ("b", 0)), "variants[1].weight" },
        { "NaN weight", ExperimentFixtures.Fixed("x", ("a", 1), ("b", double.NaN)), "variants[1].weight" },
        { "infinite weight", ExperimentFixtures.Fixed("x", ("a", 1), ("b", double.PositiveInfinity)), "variants[1].weight" },
        { "duplicate variant", ExperimentFixtures.Fixed("x", ("a", 1), ("a", 1)), "variants[1].id" },
        { "undefined kind", ExperimentFixtures.Fixed() with { Kind = (ExperimentKind)9 }, "kind" },
        { "undefined status", ExperimentFixtures.Fixed() with { Status = (ExperimentStatus)9 }, "status" },
        { "undefined metric kind", ExperimentFixtures.Fixed() with { PrimaryMetric = new("conversion", (MetricKind)7) }, "primary_metric.kind" },
        { "minimum sample", ExperimentFixtures.Fixed() with { MinimumSample = 0 }, "minimum_sample" },
        { "empty salt", ExperimentFixtures.Fixed() with { Salt = "" }, "salt" },
        { "version zero", ExperimentFixtures.Fixed() with { Version = 0 }, "version" },
        { "duplicate guardrail", ExperimentFixtures.Fixed() with { Guardrails = [new("revenue", GuardrailDirection.MustNotDecrease), new("revenue", GuardrailDirection.MustNotIncrease)] }, "guardrails[1].metric" },
        { "unsupported guardrail metric", ExperimentFixtures.Fixed() with { Guardrails = [new("latency", GuardrailDirection.MustNotIncrease)] }, "guardrails[0].metric" },
        { "factorial variants not the product", ExperimentFixtures.Factorial() with { Variants = [new("a", 1), new("b", 1)] }, "variants" },
        { "factorial single level", ExperimentFixtures.Factorial() with { Factors = [new("color", ["red"])] }, "factors[0].levels" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_InvalidDefinition_NamesField(string description, ExperimentDefinition definition, string field)
    {
        var error = Assert.Throws<ExperimentDefinitionException>(definition.Validate);

        Assert.True(field == error.Field, $"{description}: expected field '{field}' but got '{error.Field}' ({error.Message})");
        Assert.Contains($"field '{field}'", error.Message);
    }

    [Fact]
    public void Salt_NotSet_DefaultsToIdEvenAfterIdChanges()
    {
        var e = ExperimentFixtures.Fixed("first") with { Id = "second" };

        Assert.Equal("second", e.Salt);
        Assert.Equal("pinned", (e with { Salt = "pinned", Id = "third" }).Salt);
    }
}
