using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Experiments.Attribution;

/// <summary>
/// Folds exposure and conversion events into a user's exposures and the shard's delta builder.
/// Rules: an <c>exposure</c> event with an experiment and variant of the catalog exposes the user to that
/// variant once (later duplicates do nothing); a <c>conversion</c> event for an experiment, or a <c>purchase</c>
/// (for every experiment), converts each exposure made at or before its event time (once) and adds its
/// <c>value</c> to the exposure's total. Events are applied in log order, so a conversion processed before its
/// exposure (out of order within the grace period) is not attributed — deterministically on every replay.
/// </summary>
/// <remarks>
/// The catalog is read per event (<paramref name="currentCatalog"/>), so experiments added or changed through the
/// admin API are attributed from the moment a node sees them; a replay attributes with the catalog in force then.
/// </remarks>
public sealed class ExperimentAttribution(Func<ExperimentCatalog> currentCatalog, IExperimentDeltaSink deltas)
{
    /// <summary>Attribution with a fixed catalog.</summary>
    public ExperimentAttribution(ExperimentCatalog catalog, IExperimentDeltaSink deltas) : this(() => catalog, deltas) { }

    public IExperimentDeltaSink Deltas => deltas;

    /// <summary>Takes back every contribution of an erased user (experiments no longer in the catalog are skipped: nothing consumes them).</summary>
    public void Erase(ExperimentExposure[]? exposures)
    {
        if (exposures is null) return;
        var catalog = currentCatalog();
        foreach (var x in exposures)
            if (catalog.TryGet(x.ExperimentId, out var def)) deltas.Removed(x, def.PrimaryMetric.Kind == MetricKind.Binary);
    }

    /// <param name="engagement">The user's engagement before this event; its score is the CUPED covariate of a new exposure.</param>
    /// <returns>The user's exposures after the event (a new array when one was added).</returns>
    public ExperimentExposure[]? Apply(ClickEvent e, ExperimentExposure[]? exposures, Engagement.EngagementState engagement, Engagement.HalfLifeDecay decay)
    {
        if (e.Type is not (EventType.Exposure or EventType.Conversion or EventType.Purchase)) return exposures;
        var catalog = currentCatalog();
        switch (e.Type)
        {
            case EventType.Exposure when e.ExperimentId is { } id && e.Variant is { } variant:
                if (!catalog.TryGet(id, out var experiment) || !experiment.HasVariant(variant)) return exposures;
                if (exposures is not null && Array.Exists(exposures, x => x.ExperimentId == id && x.VariantId == variant)) return exposures;
                // The covariate is computed only for a new exposure, not for every event on the hot path.
                var exposure = new ExperimentExposure(id, variant, e.TimestampMs, engagement.ScoreAt(e.TimestampMs, decay));
                deltas.Exposed(exposure);
                return exposures is null ? [exposure] : [.. exposures, exposure];
            case EventType.Conversion or EventType.Purchase when exposures is not null:
                foreach (var x in exposures)
                {
                    if (x.ExposedAtMs > e.TimestampMs) continue;
                    if (e.Type == EventType.Conversion && e.ExperimentId is { } target && target != x.ExperimentId) continue;
                    if (!catalog.TryGet(x.ExperimentId, out var def)) continue;
                    var binary = def.PrimaryMetric.Kind == MetricKind.Binary;
                    if (!x.Converted)
                    {
                        x.Converted = true;
                        deltas.Converted(x, binary);
                    }
                    if (e.Value is { } v && v != 0)
                    {
                        var before = x.Value;
                        x.Value = before + v;
                        deltas.ValueChanged(x, before, x.Value, !binary);
                    }
                }
                return exposures;
            default:
                return exposures;
        }
    }
}
