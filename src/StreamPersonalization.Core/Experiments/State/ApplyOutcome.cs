namespace StreamPersonalization.Core.Experiments.State;

/// <summary>What <see cref="ExperimentState.Apply"/> did with a delta. Only <see cref="Applied"/> changes the state.</summary>
public enum ApplyOutcome
{
    /// <summary>From equalled the mark; sums added and the mark moved to To.</summary>
    Applied,
    /// <summary>To ≤ mark: a re-published range, already counted; skipped silently.</summary>
    Duplicate,
    /// <summary>From &gt; mark: an earlier range is missing; not applied, the caller should report it.</summary>
    Gap,
    /// <summary>From &lt; mark &lt; To: the range straddles the mark, which correct shards never produce; rejected.</summary>
    Overlap,
    /// <summary>The delta is for another experiment or has To ≤ From; rejected.</summary>
    Invalid,
}
