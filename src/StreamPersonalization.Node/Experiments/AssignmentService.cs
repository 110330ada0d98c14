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
///   consent withdrawn ────────────────────▶ fallback (no_consent), even for a stored assignment
///   market switched off ──────────────────▶ fallback (personalization_off)
///   stored assignment (cache, then store) ─▶ that variant, sticky (running or paused)
///   paused / draft ───────────────────────▶ fallback (experiment_not_running)
///   data, targeting (AssignmentPolicy) ── fails ─▶ fallback with the reason, not stored
///   fixed/factorial: salted hash; bandit: the latest snapshot's allocation (Thompson) ─▶ stored, first writer wins
/// </code>
/// The bandit draw uses the salted hash of (experiment, "bandit", user) as its uniform number, walked along the
/// allocation: drawing an arm with probability P(arm is best | data) is Thompson sampling, and the draw is
/// reproducible for audits. With pseudonymisation on, <paramref name="storeKey"/> maps the id a client sends to
/// the key the shards and stores use; answers repeat the id the client sent and nothing else keeps it.
/// </summary>
public sealed class AssignmentService(ExperimentCatalogSource catalog, SegmentCatalog segments, UserFactsReader users,
    IAssignmentStore store, AssignmentWriter writer, SnapshotBoard snapshots, ExperimentOptions options, TimeProvider? time = null,
    Func<string, string>? storeKey = null, Func<string?, bool>? personalizationOff = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    // The TTL bounds how long an erasure made through another node (or the stream) can still be answered from this node's memory.
    private readonly TtlCache<(string Experiment, string User), StoredAssignment> _cache = new(options.AssignmentCacheTtl, options.AssignmentCacheCapacity, time);
    // Single-user requests (the common case) share one store read per batch of concurrent requests.
    private readonly KeyBatcher<(string Experiment, string User), StoredAssignment> _reads = new(async keys =>
    {
        var found = new Dictionary<(string, string), StoredAssignment>();
        foreach (var group in keys.GroupBy(k => k.Experiment))
            foreach (var s in await store.GetAsync(group.Key, group.Select(k => k.User).ToList()).ConfigureAwait(false))
                found[(s.ExperimentId, s.UserKey)] = s;
        return found;
    });

    /// <summary>The store key of a client's user id (its pseudonym when pseudonymisation is on).</summary>
    public string StoreKey(string userId) => storeKey is null ? userId : storeKey(userId);

    /// <summary>Answers for each user (in request order); null when the experiment does not exist.</summary>
    public async Task<IReadOnlyList<AssignmentAnswer>?> AssignAsync(string experimentId, IReadOnlyList<string> userIds, CancellationToken ct)
    {
        if (!catalog.Current.TryGet(experimentId, out var e)) return null;
        var answers = new AssignmentAnswer[userIds.Count];
        if (e.Status == ExperimentStatus.Stopped)
        {
            for (var i = 0; i < answers.Length; i++) answers[i] = Fallback(e, userIds[i], AssignmentReason.ExperimentNotRunning);
            return answers;
        }
        var keys = userIds.Select(StoreKey).ToArray();
        var stored = await StoredAsync(e.Id, keys, ct).ConfigureAwait(false);
        // Every user's facts are requested at once (a batch request waits for one coalesced read, not one per user).
        var factReads = new Task<UserFacts>[keys.Length];
        for (var i = 0; i < keys.Length; i++) factReads[i] = users.ReadAsync(keys[i], ct);
        var pending = new List<(int Index, Task<StoredAssignment> Write)>();
        for (var i = 0; i < answers.Length; i++)
        {
            var (id, key) = (userIds[i], keys[i]);
            var facts = await factReads[i].ConfigureAwait(false);
            if (facts.ConsentWithdrawn)
            {
                _cache.Remove((e.Id, key));   // its stored row is deleted with the withdrawal: a later grant must not find it here
                answers[i] = Fallback(e, id, AssignmentReason.NoConsent);
                continue;
            }
            if (personalizationOff?.Invoke(facts.Country) == true) { answers[i] = Fallback(e, id, AssignmentReason.PersonalizationOff); continue; }
            if (stored.TryGetValue(key, out var s)) { answers[i] = Sticky(s, id); continue; }
            if (e.Status != ExperimentStatus.Running) { answers[i] = Fallback(e, id, AssignmentReason.ExperimentNotRunning); continue; }
            var decision = Decide(e, key, facts);
            if (decision.Reason != AssignmentReason.Assigned) { answers[i] = Answer(e, id, decision, sticky: false); continue; }
            pending.Add((i, writer.AddIfAbsentAsync(new StoredAssignment(e.Id, key, decision.Variant, e.Version, _time.GetUtcNow().ToUnixTimeMilliseconds()))));
        }
        foreach (var (i, write) in pending)
        {
            var s = await write.ConfigureAwait(false);
            Remember(s);
            // Another node (or request) may have stored a different variant first: its answer is the one that sticks.
            answers[i] = new(s.ExperimentId, userIds[i], s.Variant, "assigned", false, s.DefinitionVersion);
        }
        return answers;
    }

    /// <summary>Forgets this node's cached assignments and facts of a user (erasure; other nodes' caches expire or are theirs to clear).</summary>
    public void Forget(string userId)
    {
        var key = StoreKey(userId);
        _cache.RemoveWhere(k => k.User == key);
        users.Forget(key);
    }

    private async Task<Dictionary<string, StoredAssignment>> StoredAsync(string experimentId, IReadOnlyList<string> keys, CancellationToken ct)
    {
        var found = new Dictionary<string, StoredAssignment>(StringComparer.Ordinal);
        List<string>? misses = null;
        foreach (var u in keys)
        {
            if (_cache.TryGet((experimentId, u), out var c)) found[u] = c;
            else (misses ??= []).Add(u);
        }
        if (misses is null) return found;
        if (misses.Count == 1)
        {
            if (await _reads.GetAsync((experimentId, misses[0])).WaitAsync(ct).ConfigureAwait(false) is { } one)
            {
                found[one.UserKey] = one;
                Remember(one);
            }
            return found;
        }
        foreach (var s in await store.GetAsync(experimentId, misses, ct).ConfigureAwait(false))
        {
            found[s.UserKey] = s;
            Remember(s);
        }
        return found;
    }

    private AssignmentDecision Decide(ExperimentDefinition e, string key, UserFacts facts)
    {
        var rule = e.Targeting;
        var restricts = !rule.Segments.IsDefaultOrEmpty || !rule.Countries.IsDefaultOrEmpty || !rule.Devices.IsDefaultOrEmpty;
        // Data is incomplete when targeting needs a fact the store does not have yet (fails closed, says why).
        var complete = !restricts || (facts.Known
            && (rule.Countries.IsDefaultOrEmpty || facts.Country is not null)
            && (rule.Devices.IsDefaultOrEmpty || facts.Device is not null));
        var targeted = complete && (!restricts || Targeting.Matches(rule, facts.SegmentMask, segments, facts.Country, facts.Device));
        var bandit = e.Kind == ExperimentKind.Bandit ? BanditDraw(e, key) : null;
        return AssignmentPolicy.Decide(e, key, hasConsent: !facts.ConsentWithdrawn, dataComplete: complete, targeted: targeted, banditVariant: bandit);
    }
    private string BanditDraw(ExperimentDefinition e, string user)
    {
        var allocation = snapshots.Latest(e.Id)?.Allocation;
        // An allocation that misses a current arm (arms renamed by a newer definition) or sums to 0 is not usable.
        if (allocation is not null && (e.Variants.Any(v => !allocation.ContainsKey(v.Id)) || e.Variants.Sum(v => allocation[v.Id]) <= 0)) allocation = null;
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

    private void Remember(StoredAssignment s) => _cache.Set((s.ExperimentId, s.UserKey), s);

    private static AssignmentAnswer Sticky(StoredAssignment s, string userId) => new(s.ExperimentId, userId, s.Variant, "assigned", true, s.DefinitionVersion);

    private static AssignmentAnswer Fallback(ExperimentDefinition e, string user, AssignmentReason reason) =>
        Answer(e, user, new AssignmentDecision(e.Id, e.FallbackVariant, reason), sticky: false);

    private static AssignmentAnswer Answer(ExperimentDefinition e, string user, AssignmentDecision d, bool sticky) =>
        new(e.Id, user, d.Variant, d.ReasonName, sticky, e.Version);
}
