using System.Text;
using System.Text.Json;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Pseudonymization;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Tests.Reference;
using Xunit;

namespace StreamPersonalization.Tests.Rounds;

/// <summary>
/// One partition's log run twice — through <see cref="UserShard"/>, and as rounds of <see cref="UserWork"/> answered
/// by users however the caller runs them (plain <see cref="UserWorker"/>s, or user actors) — with checkpoints at the
/// same offsets, and the means to compare the two: outputs per user, dead letters, and every checkpoint as bytes.
/// Shared by the Core tests and the actor runtime's tests.
/// </summary>
public static class RoundsScenario
{
    private const long DayMs = 86_400_000;

    public static readonly SegmentCatalog Catalog = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));
    public static readonly ExperimentCatalog Experiments = ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

    /// <summary>A generated log (bad, late and out-of-order records, exposures) with consent changes, erasures and re-sent ids mixed in.</summary>
    public static List<InputRecord> Log(long seed, int count)
    {
        var generated = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = 150, BadRecordShare = 0.02 }).Generate(count).ToList();
        var rng = new Random((int)seed);
        var records = new List<InputRecord>(generated.Count + generated.Count / 20);
        var accepted = new List<(string User, string Json, long Ts)>();
        foreach (var g in generated)
        {
            Add(g.Key, g.Value, g.TimestampMs);
            if (g.ExpectedReject is null && g.Key is not null) accepted.Add((g.Key, Encoding.UTF8.GetString(g.Value), g.TimestampMs));
            if (accepted.Count < 10 || rng.NextDouble() > 0.05) continue;
            var (user, json, ts) = accepted[rng.Next(Math.Max(0, accepted.Count - 50), accepted.Count)];
            switch (rng.Next(4))
            {
                case 0: Add(user, Encoding.UTF8.GetBytes(json), ts); break;   // re-sent: a duplicate while its id is remembered
                case 1: Add(user, Event(user, "consent", ts, ""","properties":{"personalization":"withdrawn"}"""), ts); break;
                case 2: Add(user, Event(user, "consent", ts, ""","properties":{"personalization":true}"""), ts); break;
                default: if (rng.Next(4) == 0) Add(user, Event(user, "forget", ts, ""), ts); break;
            }
        }
        return records;

        void Add(string? key, byte[] value, long ts) =>
            records.Add(new InputRecord("clickstream", 0, records.Count, key is null ? null : Encoding.UTF8.GetBytes(key), value, ts));

        byte[] Event(string user, string type, long ts, string extra) => Encoding.UTF8.GetBytes(
            $$"""{"event_id":"x{{records.Count}}","user_id":{{JsonSerializer.Serialize(user)}},"type":"{{type}}","ts":{{ts}}{{extra}}}""");
    }

    /// <summary>The event id of a <c>page_view</c> record (null for any other record): the poison tests pick theirs from these.</summary>
    public static string? PageViewId(InputRecord record)
    {
        var json = Encoding.UTF8.GetString(record.Value ?? []);
        if (!json.Contains("\"type\":\"page_view\"", StringComparison.Ordinal)) return null;
        var at = json.IndexOf("\"event_id\":\"", StringComparison.Ordinal);
        if (at < 0) return null;
        at += 12;
        return json[at..json.IndexOf('"', at)];
    }

    /// <summary>Every <paramref name="every"/>-th page view's event id from the <paramref name="first"/>-th on, at most <paramref name="take"/>.</summary>
    public static List<string> PageViewIds(IEnumerable<InputRecord> log, int every, int first, int take) =>
        log.Select(PageViewId).OfType<string>().Where((_, i) => i % every == first).Take(take).ToList();

    public static ShardOptions Options(UserIdPseudonymizer? pseudonymizer) => new()
    {
        Sessions = new SessionOptions { Grace = TimeSpan.FromSeconds(30), MaxLength = TimeSpan.FromHours(1) },
        Privacy = new ShardPrivacy { RetentionMs = 3 * DayMs, Pseudonymizer = pseudonymizer },
    };

    /// <summary>What a checkpoint stores, as bytes that can be compared.</summary>
    public sealed class Store
    {
        public readonly Dictionary<string, byte[]> Rows = new(StringComparer.Ordinal);
        public readonly Dictionary<string, long> Timers = new(StringComparer.Ordinal);
        public readonly List<string> Checkpoints = [];

        /// <summary>The last checkpoint's next offset (null before the first).</summary>
        public long? NextOffset { get; private set; }

        /// <summary>The last checkpoint's shard state (null before the first).</summary>
        public byte[]? ShardState { get; private set; }

        /// <summary>The committed pending timers, as the store gives them to a partition that rewinds.</summary>
        public List<EntityTimer> PendingTimers() => Timers.Select(kv => new EntityTimer(kv.Key, kv.Value)).ToList();

        public void Commit(long next, IEnumerable<EntityWrite> writes, byte[] shardState, IEnumerable<Core.Experiments.State.ExperimentDelta> deltas, IEnumerable<string> erasures, IEnumerable<string> withdrawals) =>
            Commit(next, writes, shardState, deltas.Select(d => d.ToBytes()), erasures, withdrawals);

        /// <summary>As a node's checkpoint carries it: the deltas as the outbox's message values.</summary>
        public void Commit(long next, IEnumerable<EntityWrite> writes, byte[] shardState, IEnumerable<byte[]> deltas, IEnumerable<string> erasures, IEnumerable<string> withdrawals)
        {
            foreach (var w in writes)
            {
                if (w.State is null) { Rows.Remove(w.Key); Timers.Remove(w.Key); continue; }
                Rows[w.Key] = w.State;
                if (w.NextTimerMs is { } t) Timers[w.Key] = t; else Timers.Remove(w.Key);
            }
            NextOffset = next;
            ShardState = shardState;
            var rows = string.Join(";", Rows.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Convert.ToHexString(kv.Value)}@{Timers.GetValueOrDefault(kv.Key, -1)}"));
            Checkpoints.Add($"next={next} state={Convert.ToHexString(shardState)} deltas={string.Join(",", deltas.Select(Convert.ToHexString))} " +
                $"erased={string.Join(",", erasures)} withdrawn={string.Join(",", withdrawals)} rows={rows}");
        }
    }

    /// <param name="poison">Records the shard rejects as poison, as if the decoder had refused them (the reference for a rewound rounds run).</param>
    public static (List<ShardOutput> Outputs, Store Store) RunShard(List<InputRecord> log, ShardOptions options, IReadOnlyList<int> batchEnds, ISet<int> checkpointAfter,
        IReadOnlyDictionary<long, PoisonRecordException>? poison = null)
    {
        var output = new ListShardOutput();
        var store = new Store();
        var shard = new UserShard(0, options, Catalog, output, experiments: Experiments);
        var from = 0;
        for (var b = 0; b < batchEnds.Count; b++)
        {
            for (var i = from; i < batchEnds[b]; i++)
                if (poison is not null && poison.TryGetValue(log[i].Offset, out var error)) shard.RejectPoison(log[i], error);
                else shard.Process(log[i]);
            from = batchEnds[b];
            Assert.True(shard.Counters.Privacy[(int)PrivacyCounter.RetentionDeletes] > 0 || b < batchEnds.Count - 1, "the log should hit the retention limit");
            if (!checkpointAfter.Contains(b)) continue;
            // As the shard runner does: rows, then the deltas (which move the range ends), then the shard state.
            var writes = shard.TakeDirty();
            var deltas = shard.ExperimentDeltas!.Take(0, from, shard.WatermarkMs == long.MinValue ? null : shard.WatermarkMs);
            store.Commit(from, writes, shard.SaveShardState(), deltas, shard.TakeErasures(), shard.TakeWithdrawals());
        }
        return (output.Records, store);
    }

    /// <summary>
    /// Runs the log as rounds; <paramref name="answer"/> gets each round (with the partition's epoch and committed
    /// offset) and returns the users' results in any order; <paramref name="committed"/> is told after each checkpoint.
    /// A round that comes back poisoned is handled as the node does (<see cref="RoundRewind"/>): restore the checkpoint,
    /// a new epoch, the rounds since it replayed muted, then the round again with the poison record rejected.
    /// </summary>
    /// <param name="store">Where checkpoints go (the users read their committed rows from it).</param>
    /// <param name="poisonFound">Filled with every record rejected as poison.</param>
    public static (List<ShardOutput> Outputs, Store Store) RunRounds(List<InputRecord> log, ShardOptions options, IReadOnlyList<int> batchEnds, ISet<int> checkpointAfter,
        Store store, Func<PartitionRound, long, long?, IReadOnlyList<UserWorkResult>> answer, Action? committed = null,
        Dictionary<long, PoisonRecordException>? poisonFound = null)
    {
        var outputs = new List<ShardOutput>();
        var rounds = new PartitionRounds(0, options, experiments: true);
        var rewind = new RoundRewind();
        var epoch = 1L;
        var from = 0;
        var ticks = 0;
        for (var b = 0; b < batchEnds.Count; b++)
        {
            var checkpoint = checkpointAfter.Contains(b);
            var batch = log.GetRange(from, batchEnds[b] - from);
            from = batchEnds[b];
            RoundOutcome? outcome = null;
            while (outcome is null)
            {
                var round = rounds.Plan(batch, checkpoint, rewind.Poison);
                ticks += round.Ticks;
                outcome = rounds.Complete(round, answer(round, epoch, store.NextOffset));
                if (outcome.Poison is null) { rewind.RoundCompleted(round); break; }
                Rewind(outcome.Poison);
                outcome = null;
            }
            outputs.AddRange(outcome.Outputs);
            if (!checkpoint) continue;
            var parts = rounds.TakeCheckpoint(from);
            store.Commit(from, outcome.Writes, parts.ShardState, parts.Deltas, parts.Erasures, parts.Withdrawals);
            rewind.Committed();
            committed?.Invoke();
        }
        Assert.True(ticks > 10 || batchEnds.Count < 20, $"users without events should have been ticked for their timers ({ticks})");
        return (outputs, store);

        void Rewind(UserWorkResult poisoned)
        {
            rewind.Poisoned(poisoned);
            poisonFound?.TryAdd(poisoned.PoisonOffset, poisoned.Poison!);
            while (true)
            {
                epoch++;
                rounds.Restore(store.ShardState, store.PendingTimers());
                var again = rewind.Completed.Select(done =>
                {
                    var replay = rounds.Plan(done, checkpoint: false, rewind.Poison);
                    return rounds.Complete(replay, answer(replay, epoch, store.NextOffset)).Poison;   // muted: published when first run
                }).FirstOrDefault(p => p is not null);
                if (again is null) return;
                rewind.Poisoned(again);   // not deterministic after all: one more rejected offset, one more rewind
                poisonFound?.TryAdd(again.PoisonOffset, again.Poison!);
            }
        }
    }

    /// <summary>Batch ends (mean <paramref name="meanBatch"/> records) and the batches after which a checkpoint is taken (always the last).</summary>
    public static (List<int> Ends, HashSet<int> Checkpoints) Batching(int count, int meanBatch, int seed)
    {
        var rng = new Random(seed);
        var ends = new List<int>();
        for (var at = 0; at < count;) ends.Add(at = Math.Min(count, at + 1 + rng.Next(2 * meanBatch)));
        return (ends, Enumerable.Range(0, ends.Count).Where(b => b == ends.Count - 1 || rng.Next(4) == 0).ToHashSet());
    }

    /// <summary>Asserts that the rounds gave what the shard gave: outputs per user, dead letters, erasures and every checkpoint.</summary>
    public static void AssertSame((List<ShardOutput> Outputs, Store Store) shard, (List<ShardOutput> Outputs, Store Store) rounds)
    {
        Assert.True(shard.Outputs.OfType<SegmentTransition>().Count() > 200, "the log should produce plenty of transitions");
        Assert.Contains(shard.Outputs, o => o is UserErased);
        Assert.Contains(shard.Outputs, o => o is DeadLetter { Reason: Core.Ingest.RejectReason.DuplicateEvent });
        Assert.Contains(shard.Store.Checkpoints, c => !c.Contains("deltas= "));
        Assert.Contains(shard.Store.Checkpoints, c => !c.Contains("withdrawn= "));
        OutputAssert.Same(InUserOrder(shard.Outputs), InUserOrder(rounds.Outputs));
        Assert.Equal(Erasures(shard.Outputs), Erasures(rounds.Outputs));
        Assert.Equal(DeadLetters(shard.Outputs), DeadLetters(rounds.Outputs));
        Assert.Equal(shard.Store.Checkpoints.Count, rounds.Store.Checkpoints.Count);
        for (var i = 0; i < shard.Store.Checkpoints.Count; i++) Assert.Equal(shard.Store.Checkpoints[i], rounds.Store.Checkpoints[i]);
    }

    /// <summary>Each user's outputs in emission order (record ids restart after an erasure, so they are not unique here).</summary>
    public static Dictionary<string, List<string>> InUserOrder(IEnumerable<ShardOutput> outputs) => outputs
        .Where(o => o is SegmentTransition or SessionClosedOutput or UserErased)
        .GroupBy(o => o.Key, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Select(o => o is UserErased e ? e.RecordId : $"{o.RecordId} {EngineRendering.Render(o)}").ToList(), StringComparer.Ordinal);

    public static List<string> Erasures(IEnumerable<ShardOutput> outputs) => outputs.OfType<UserErased>().Select(e => e.RecordId).Order(StringComparer.Ordinal).ToList();

    public static List<string> DeadLetters(IEnumerable<ShardOutput> outputs) =>
        outputs.OfType<DeadLetter>().Select(d => $"{d.RecordId} {d.Reason} {d.Detail} {Convert.ToHexString(d.Source.Value)} {Convert.ToHexString(d.Source.Key ?? [])}").Order(StringComparer.Ordinal).ToList();
}
