using System.Collections.Immutable;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// The semantic rules of an <see cref="ExperimentDefinition"/>, shared by the YAML loader and the API so both
/// reject the same definitions with the same messages. Field names are the YAML spellings.
/// </summary>
internal static class ExperimentDefinitionValidator
{
    public static void Validate(ExperimentDefinition e, string? sourceName, int? index)
    {
        var id = string.IsNullOrEmpty(e.Id) ? null : e.Id;
        ExperimentDefinitionException Fail(string field, string problem) =>
            ExperimentDefinitionException.Create(sourceName, index, id, field, problem);

        if (id is null)
            throw Fail("id", "missing");
        if (!ExperimentDefinition.IdPattern().IsMatch(e.Id))
            throw Fail("id", $"invalid id '{e.Id}' (allowed: lowercase letters, digits, '_' and '-')");
        if (!Enum.IsDefined(e.Kind))
            throw Fail("kind", $"unknown kind {(int)e.Kind} (allowed: {string.Join(", ", ExperimentNames.Kinds.Keys)})");
        if (!Enum.IsDefined(e.Status))
            throw Fail("status", $"unknown status {(int)e.Status} (allowed: {string.Join(", ", ExperimentNames.Statuses.Keys)})");
        if (e.Variants.IsDefault)
            throw Fail("variants", "missing");

        if (e.Kind == ExperimentKind.Factorial)
            ValidateFactorial(e, Fail);
        else
            ValidateArms(e, Fail);

        ValidatePrimaryMetric(e.PrimaryMetric, Fail);
        ValidateGuardrails(e.Guardrails, Fail);
        ValidateTargeting(e.Targeting, Fail);

        if (e.MinimumSample < 1)
            throw Fail("minimum_sample", $"must be at least 1 but is {e.MinimumSample}");
        if (string.IsNullOrEmpty(e.FallbackVariant))
            throw Fail("fallback_variant", "missing");
        if (!e.HasVariant(e.FallbackVariant))
            throw Fail("fallback_variant", $"'{e.FallbackVariant}' is not one of the variants [{VariantList(e)}]");
        if (string.IsNullOrEmpty(e.Salt))
            throw Fail("salt", "must not be empty");
        if (e.Version < 1)
            throw Fail("version", $"must be a positive integer but is {e.Version}");
    }

    /// <summary>Variant ids for messages, cut after a dozen so a 64-cell factorial does not flood the log.</summary>
    private static string VariantList(ExperimentDefinition e)
    {
        const int Shown = 12;
        var ids = string.Join(", ", e.Variants.Take(Shown).Select(v => v.Id));
        return e.Variants.Length <= Shown ? ids : $"{ids}, ... {e.Variants.Length - Shown} more";
    }

    private static void ValidateArms(ExperimentDefinition e, Func<string, string, Exception> fail)
    {
        if (!e.Factors.IsDefaultOrEmpty)
            throw fail("factors", $"only factorial experiments have factors; use 'variants' for a {ExperimentNames.Of(ExperimentNames.Kinds, e.Kind)} experiment");
        if (e.Variants.Length == 0)
            throw fail("variants", "must list at least two variants but is empty");
        if (e.Variants.Length < 2)
            throw fail("variants", $"must list at least two variants but has only '{e.Variants[0].Id}'");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < e.Variants.Length; i++)
        {
            var v = e.Variants[i];
            if (v is null || string.IsNullOrEmpty(v.Id))
                throw fail($"variants[{i}].id", "missing");
            if (!ExperimentDefinition.IdPattern().IsMatch(v.Id))
                throw fail($"variants[{i}].id", $"invalid variant id '{v.Id}' (allowed: lowercase letters, digits, '_' and '-')");
            if (!seen.Add(v.Id))
                throw fail($"variants[{i}].id", $"duplicate variant id '{v.Id}'");
            if (!(v.Weight > 0) || !double.IsFinite(v.Weight))
                throw fail($"variants[{i}].weight", $"weight of '{v.Id}' must be a positive number but is {v.Weight}");
        }
    }

    private static void ValidateFactorial(ExperimentDefinition e, Func<string, string, Exception> fail)
    {
        if (e.Factors.IsDefaultOrEmpty)
            throw fail("factors", "a factorial experiment must list at least one factor");
        var names = new HashSet<string>(StringComparer.Ordinal);
        long cells = 1;
        for (var i = 0; i < e.Factors.Length; i++)
        {
            var f = e.Factors[i];
            if (f is null || string.IsNullOrEmpty(f.Name))
                throw fail($"factors[{i}].name", "missing");
            if (!ExperimentDefinition.IdPattern().IsMatch(f.Name))
                throw fail($"factors[{i}].name", $"invalid factor name '{f.Name}' (allowed: lowercase letters, digits, '_' and '-')");
            if (!names.Add(f.Name))
                throw fail($"factors[{i}].name", $"duplicate factor '{f.Name}'");
            if (f.Levels.IsDefault || f.Levels.Length < 2)
                throw fail($"factors[{i}].levels", $"factor '{f.Name}' needs at least two levels but has {(f.Levels.IsDefault ? 0 : f.Levels.Length)}");
            var levels = new HashSet<string>(StringComparer.Ordinal);
            foreach (var level in f.Levels)
            {
                if (string.IsNullOrEmpty(level) || !ExperimentDefinition.IdPattern().IsMatch(level))
                    throw fail($"factors[{i}].levels", $"invalid level '{level}' of factor '{f.Name}' (allowed: lowercase letters, digits, '_' and '-')");
                if (!levels.Add(level))
                    throw fail($"factors[{i}].levels", $"duplicate level '{level}' of factor '{f.Name}'");
            }
            cells *= f.Levels.Length;
            if (cells > ExperimentDefinition.MaxFactorialCells)
                throw fail("factors", $"the factors have more than {ExperimentDefinition.MaxFactorialCells} cells in total");
        }
        var expected = ExperimentDefinition.FactorialCells(e.Factors);
        if (!expected.Select(v => v.Id).SequenceEqual(e.Variants.Select(v => v?.Id)) || e.Variants.Any(v => v.Weight != 1))
            throw fail("variants", "a factorial experiment's variants must be the product of its factors (use ExperimentDefinition.FactorialCells)");
    }

    private static void ValidatePrimaryMetric(MetricDefinition? metric, Func<string, string, Exception> fail)
    {
        if (metric is null)
            throw fail("primary_metric", "missing");
        if (string.IsNullOrEmpty(metric.Name) || !ExperimentDefinition.IdPattern().IsMatch(metric.Name))
            throw fail("primary_metric.name", $"invalid metric name '{metric.Name}' (allowed: lowercase letters, digits, '_' and '-')");
        if (!Enum.IsDefined(metric.Kind))
            throw fail("primary_metric.kind", $"unknown metric kind {(int)metric.Kind} (allowed: {string.Join(", ", ExperimentNames.MetricKinds.Keys)})");
    }

    private static void ValidateGuardrails(ImmutableArray<GuardrailDefinition> guardrails, Func<string, string, Exception> fail)
    {
        if (guardrails.IsDefault)
            return;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < guardrails.Length; i++)
        {
            var g = guardrails[i];
            if (g is null || string.IsNullOrEmpty(g.Metric) || !ExperimentDefinition.IdPattern().IsMatch(g.Metric))
                throw fail($"guardrails[{i}].metric", $"invalid metric name '{g?.Metric}' (allowed: lowercase letters, digits, '_' and '-')");
            if (!ExperimentNames.GuardrailMetrics.Contains(g.Metric))
                throw fail($"guardrails[{i}].metric", $"unsupported guardrail metric '{g.Metric}' (allowed: {string.Join(", ", ExperimentNames.GuardrailMetrics)})");
            if (!seen.Add(g.Metric))
                throw fail($"guardrails[{i}].metric", $"duplicate guardrail '{g.Metric}'");
            if (!Enum.IsDefined(g.Direction))
                throw fail($"guardrails[{i}].direction", $"unknown direction {(int)g.Direction} (allowed: {string.Join(", ", ExperimentNames.Directions.Keys)})");
        }
    }

    private static void ValidateTargeting(TargetingRule? targeting, Func<string, string, Exception> fail)
    {
        if (targeting is null)
            throw fail("targeting", "missing (use TargetingRule.Everyone)");
        if (targeting.Segments.IsDefault || targeting.Countries.IsDefault || targeting.Devices.IsDefault)
            throw fail("targeting", "lists must not be default arrays (use empty lists)");
        foreach (var s in targeting.Segments)
            if (string.IsNullOrEmpty(s) || !ExperimentDefinition.IdPattern().IsMatch(s))
                throw fail("targeting.segments", $"invalid segment id '{s}'");
        foreach (var c in targeting.Countries)
            if (string.IsNullOrWhiteSpace(c))
                throw fail("targeting.countries", "country must not be empty");
        foreach (var d in targeting.Devices)
            if (string.IsNullOrWhiteSpace(d))
                throw fail("targeting.devices", "device must not be empty");
    }
}
