using System.Globalization;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>What the detectors need from an experiment's definition: its guardrails and the per-arm minimum sample.</summary>
public sealed record AlertPolicy(IReadOnlyList<GuardrailDefinition> Guardrails, int MinimumSample)
{
    /// <summary>The policy of a validated definition.</summary>
    public static AlertPolicy From(ExperimentDefinition d) => new(d.Guardrails.IsDefault ? [] : d.Guardrails, d.MinimumSample);

    /// <inheritdoc />
    public override string ToString() =>
        $"AlertPolicy(guardrails=[{string.Join(", ", Guardrails.Select(g => $"{g.Metric} {ExperimentNames.Of(ExperimentNames.Directions, g.Direction)}"))}], minimumSample={MinimumSample})";
}

/// <summary>Result of one detector evaluation: the alert changes to publish to <c>alerts</c>, and the snapshot listing the raised alerts.</summary>
public sealed record AlertEvaluation(ExperimentSnapshot Snapshot, IReadOnlyList<Alert> Changes)
{
    /// <inheritdoc />
    public override string ToString() => $"{Snapshot.ExperimentId} v{Snapshot.Version}: {Changes.Count} change(s) [{string.Join("; ", Changes.Select(c => c.Id))}]";
}

/// <summary>
/// Collects the findings of every experiment detector (SRM from the snapshot, per-minute rate anomalies, guardrail
/// breaches) and folds them through the state's <see cref="AlertBook"/>.
/// </summary>
internal static class ExperimentDetectors
{
    public static AlertEvaluation Evaluate(ExperimentState state, AlertBook book, ExperimentSnapshot snapshot, ExperimentShape shape, AlertPolicy policy, DetectorOptions o)
    {
        if (snapshot.ExperimentId != state.ExperimentId || shape.ExperimentId != state.ExperimentId)
            throw new ArgumentException($"snapshot '{snapshot.ExperimentId}' / shape '{shape.ExperimentId}' is not of experiment '{state.ExperimentId}'", nameof(snapshot));
        var findings = new List<AlertFinding>();
        if (snapshot.Srm.Fired) findings.Add(Srm(snapshot, shape));
        findings.AddRange(state.Minutes.TakeFindings());
        findings.AddRange(state.Guardrails.Findings(policy.Guardrails, state.Arm, state.ControlVariantId, policy.MinimumSample, o.GuardrailAlpha));
        var changes = book.Evaluate(findings, state.Sequence, state.WatermarkMs, o.QuietEvaluationsToResolve);
        var raised = book.Raised.Select(a => new SnapshotAlert(a.Detector, AlertNames.Of(a.Severity), a.Message, a.Subject, a.Version)).ToList();
        return new(snapshot with { Alerts = raised }, changes);
    }

    private static AlertFinding Srm(ExperimentSnapshot s, ExperimentShape shape)
    {
        var total = shape.IntendedShares.Sum();
        var evidence = new List<AlertEvidence>
        {
            new("chi_square", s.Srm.Statistic), new("degrees_of_freedom", s.Srm.DegreesOfFreedom), new("p_value", s.Srm.PValue),
        };
        foreach (var a in s.Arms) evidence.Add(new($"users.{a.VariantId}", a.Users));
        for (var i = 0; i < shape.VariantIds.Count && i < shape.IntendedShares.Count; i++)
            evidence.Add(new($"intended_share.{shape.VariantIds[i]}", shape.IntendedShares[i] / total));
        var message = string.Create(CultureInfo.InvariantCulture,
            $"sample ratio mismatch: served [{string.Join(", ", s.Arms.Select(a => a.Users))}] vs intended shares [{string.Join(", ", shape.IntendedShares.Select(x => (x / total).ToString("G4", CultureInfo.InvariantCulture)))}], p = {s.Srm.PValue:G3}");
        return new(AlertDetectors.Srm, "", AlertSeverity.Critical, message, evidence);
    }
}
