using System.Collections.Concurrent;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Node.Experiments;

/// <summary>One answer of the assignment API.</summary>
/// <param name="Sticky">True when the variant came from the durable store (assigned earlier, here or on another node).</param>
public sealed record AssignmentAnswer(string ExperimentId, string UserKey, string Variant, string Reason, bool Sticky, int DefinitionVersion);

/// <summary>
/// "Which variant does this user get?" for every node. Order of decisions:
/// <code>
///   stopped ──────────────────────────────▶ fallback (experiment_not_running), nothing stored or read
///   stored assignment (cache, then store) ─▶ that variant, sticky (running or paused)
///   paused / draft ───────────────────────▶ fallback (experiment_not_running)
///   consent, data, targeting (AssignmentPolicy) ─ fails ─▶ fallback with the reason, not stored
///   fixed/factorial: salted hash; bandit: the latest snapshot's allocation (Thompson) ─▶ stored, first writer wins
/// </code>
/// The bandit draw uses the salted hash of (experiment, "bandit", user) as its uniform number, walked along the
/// allocation: drawing an arm with probability P(arm is best | data) is Thompson sampling, and the draw is
/// reproducible for audits.
/// </summary>
public sealed class AssignmentService(ExperimentCatalogSource catalog, SegmentCatalog segments, UserFactsReader users,
    IAssignmentStore store, AssignmentWriter writer, SnapshotBoard snapshots, ExperimentOptions options, TimeProvider? time = null)
{
    private readonly ConcurrentDictionary<(string, string), StoredAssignment> _cache = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Answers for each user (in request order); null when the experiment does not exist.</summary>
    public async Task<IReadOnlyList<AssignmentAnswer>?> AssignAsync(string experimentId, IReadOnlyList<string> userKeys, CancellationToken ct)
    {
        if (!catalog.Current.TryGet(experimentId, out var e)) return null;
        var answers = new AssignmentAnswer[userKeys.Count];
        if (e.Status == ExperimentStatus.Stopped)
        {
            for (var i = 0; i < answers.Length; i++) answers[i] = Fallback(e, userKeys[i], AssignmentReason.ExperimentNotRunning);
            return answers;
        }
        var stored = await StoredAsync(e.Id, userKeys, ct).ConfigureAwait(false);
        var pending = new List<(int Index, Task<StoredAssignment> Write)>();
        for (var i = 0; i < answers.Length; i++)
        {
            var user = userKeys[i];
            if (stored.TryGetValue(user, out var s)) { answers[i] = Sticky(s); continue; }
            if (e.Status != ExperimentStatus.Running) { answers[i] = Fallback(e, user, AssignmentReason.ExperimentNotRunning); continue; }
            var decision = await DecideAsync(e, user, ct).ConfigureAwait(false);
            if (decision.Reason != AssignmentReason.Assigned) { answers[i] = Answer(e, user, decision, sticky: false); continue; }
            pending.Add((i, writer.AddIfAbsentAsync(new StoredAssignment(e.Id, user, decision.Variant, e.Version, _time.GetUtcNow().ToUnixTimeMilliseconds()))));
        }
        foreach (var (i, write) in pending)
        {
            var s = await write.ConfigureAwait(false);
            Remember(s);
            // Another node (or request) may have stored a different variant first: its answer is the one that sticks.
            answers[i] = new(s.ExperimentId, s.UserKey, s.Variant, "assigned", false, s.DefinitionVersion);
        }
        return answers;
    }

    /// <summary>Forgets this node's cached assignments of a user (erasure; other nodes' caches are theirs to clear).</summary>
    public void Forget(string userKey)
    {
        foreach (var key in _cache.Keys.Where(k => k.Item2 == userKey).ToList()) _cache.TryRemove(key, out _);
    }

    private async Task<Dictionary<string, StoredAssignment>> StoredAsync(string experimentId, IReadOnlyList<string> userKeys, CancellationToken ct)
    {
        var found = new Dictionary<string, StoredAssignment>(StringComparer.Ordinal);
        List<string>? misses = null;
        foreach (var u in userKeys)
        {
            if (_cache.TryGetValue((experimentId, u), out var s)) found[u] = s;
            else (misses ??= []).Add(u);
        }
        if (misses is null) return found;
        foreach (var s in await store.GetAsync(experimentId, misses, ct).ConfigureAwait(false))
        {
            found[s.UserKey] = s;
            Remember(s);
        }
        return found;
    }

    private async Task<AssignmentDecision> DecideAsync(ExperimentDefinition e, string user, CancellationToken ct)
    {
        var rule = e.Targeting;
        var restricts = !rule.Segments.IsDefaultOrEmpty || !rule.Countries.IsDefaultOrEmpty || !rule.Devices.IsDefaultOrEmpty;
        var facts = restricts ? await users.ReadAsync(user, ct).ConfigureAwait(false) : UserFacts.Unknown;
        // Data is incomplete when targeting needs a fact the store does not have yet (fails closed, says why).
        var complete = !restricts || (facts.Known
            && (rule.Countries.IsDefaultOrEmpty || facts.Country is not null)
            && (rule.Devices.IsDefaultOrEmpty || facts.Device is not null));
        var targeted = complete && (!restricts || Targeting.Matches(rule, facts.SegmentMask, segments, facts.Country, facts.Device));
        var bandit = e.Kind == ExperimentKind.Bandit ? BanditDraw(e, user) : null;
        return AssignmentPolicy.Decide(e, user, hasConsent: true, dataComplete: complete, targeted: targeted, banditVariant: bandit);
    }

    private string BanditDraw(ExperimentDefinition e, string user)
    {
        var allocation = snapshots.Latest(e.Id)?.Allocation;
        var u = AssignmentHash.ToUnit(AssignmentHash.Bucket(e.Salt, "bandit", user));
        // Before the first snapshot the definition's weights are the initial allocation.
        double total = 0;
        foreach (var v in e.Variants) total += Share(v);
        var target = u * total;
        double cumulative = 0;
        foreach (var v in e.Variants)
        {
            cumulative += Share(v);
            if (target < cumulative) return v.Id;
        }
        return e.Variants[^1].Id;

        double Share(VariantDefinition v) => allocation is null ? v.Weight : allocation.GetValueOrDefault(v.Id);
    }

    private void Remember(StoredAssignment s)
    {
        if (options.AssignmentCacheCapacity == 0) return;
        // Crude bound: start over when full (entries are cheap to re-read and never change).
        if (_cache.Count >= options.AssignmentCacheCapacity) _cache.Clear();
        _cache[(s.ExperimentId, s.UserKey)] = s;
    }

    private static AssignmentAnswer Sticky(StoredAssignment s) => new(s.ExperimentId, s.UserKey, s.Variant, "assigned", true, s.DefinitionVersion);

    private static AssignmentAnswer Fallback(ExperimentDefinition e, string user, AssignmentReason reason) =>
        Answer(e, user, new AssignmentDecision(e.Id, e.FallbackVariant, reason), sticky: false);

    private static AssignmentAnswer Answer(ExperimentDefinition e, string user, AssignmentDecision d, bool sticky) =>
        new(e.Id, user, d.Variant, d.ReasonName, sticky, e.Version);
}
