using System.Text;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Tests;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>
/// Poison records (entity code throws, made deterministic with the <see cref="IEntityFaultInjector"/> seam) through a
/// <see cref="PoisonRecordGuard"/>: the result must equal a run in which those records were dead-lettered at decode time —
/// the independent reference model's outputs and dead letters, and byte for byte the committed state of an engine run
/// that never applied them.
/// </summary>
public sealed class PoisonRecordTests
{
    private const int Partitions = 3;

    private static readonly ShardOptions Options = new()
    {
        Sessions = new SessionOptions { Grace = TimeSpan.FromSeconds(30), MaxLength = TimeSpan.FromHours(1) },
    };

    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));

    /// <summary>A generated log and the event ids of every <paramref name="every"/>-th valid record: the poison set.</summary>
    private static (PartitionedLog Log, HashSet<string> PoisonIds) Scenario(long seed, int every)
    {
        var log = new PartitionedLog(new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = 150, BadRecordShare = 0.02 }).Generate(12_000), Partitions);
        var decoder = new EventDecoder(new DecoderOptions());
        var ids = new HashSet<string>();
        var n = 0;
        foreach (var (input, _) in log.Partitions.SelectMany(p => p))
        {
            var d = decoder.Decode(input.Key, input.Value, input.TimestampMs, "x");
            if (d.IsValid && ++n % every == 0) ids.Add(d.Event!.EventId);
        }
        return (log, ids);
    }

    private static bool IsPoison(InputRecord r, HashSet<string> ids)
    {
        var d = new EventDecoder(new DecoderOptions()).Decode(r.Key, r.Value, r.TimestampMs, "x");
        return d.IsValid && ids.Contains(d.Event!.EventId);
    }

    /// <summary>The reference with the poison records labelled processing_error, as if the decoder had rejected them.</summary>
    private static ReferenceModel Reference(PartitionedLog log, HashSet<string> poison)
    {
        var reference = new ReferenceModel(ReferenceSettings.From(Options), Catalog);
        foreach (var p in log.Partitions)
            reference.RunPartition(p.Select(x => IsPoison(x.Input, poison) ? x.Log with { Label = RejectReason.ProcessingError } : x.Log));
        return reference;
    }

    /// <summary>Runs every partition through a guard with checkpoints every ~150 records, optionally crashing and replaying from the last one.</summary>
    private static (ListShardOutput Output, MemoryPartitionState[] States, long Rewinds) RunGuarded(PartitionedLog log, ShardOptions options, int? crashEvery, bool passivate)
    {
        var output = new ListShardOutput();
        var states = new MemoryPartitionState[Partitions];
        long poison = 0;
        var random = new Random(7);
        for (var p = 0; p < Partitions; p++)
        {
            var state = states[p] = new MemoryPartitionState();
            var shard = state.Restore(p, options, Catalog, output);
            var guard = Guard(shard, state);
            var records = log.Partitions[p];
            var offset = 0;
            var sinceCrash = 0;
            while (offset < records.Count)
            {
                guard.Process(records[offset].Input);
                offset++;
                sinceCrash++;
                if (random.Next(150) == 0)
                {
                    state.Commit(shard, offset);
                    guard.Checkpointed();
                    if (passivate) shard.Passivate(long.MaxValue);
                }
                if (crashEvery is { } every && sinceCrash >= every)
                {
                    poison += guard.PoisonRecords;
                    shard = state.Restore(p, options, Catalog, output);
                    guard = Guard(shard, state);
                    offset = (int)state.NextOffset;
                    sinceCrash = 0;
                }
            }
            state.Commit(shard, offset);
            poison += guard.PoisonRecords;
        }
        return (output, states, poison);
    }

    private static PoisonRecordGuard Guard(UserShard shard, MemoryPartitionState state) =>
        new(shard, () => new CommittedShardState(state.ShardState, state.Timers.Select(kv => new Core.Checkpoints.EntityTimer(kv.Key, kv.Value)).ToList()));

    [Fact]
    public void Guard_PoisonRecords_EqualReferenceWithThemDeadLetteredAtDecode()
    {
        var (log, poison) = Scenario(seed: 21, every: 331);
        var options = Options with { FaultInjector = new ThrowOnEventIds(poison) };
        var (output, _, rewinds) = RunGuarded(log, options, crashEvery: null, passivate: false);

        var reference = Reference(log, poison);
        Assert.True(poison.Count >= 30, $"{poison.Count} poison records");
        Assert.Equal(poison.Count, rewinds);
        OutputAssert.Same(reference.Outputs, OutputComparison.ByUser(output.Records));
        // Exactly once: a replay mutes what was already emitted, so no record id appears twice.
        Assert.Equal(output.Records.Count, output.Records.Select(o => o.RecordId).Distinct().Count());
        var deadLetters = output.Records.OfType<DeadLetter>().ToDictionary(d => (d.Source.Partition, d.Source.Offset), d => d.Reason.Code());
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        Assert.Equal(poison.Count, deadLetters.Values.Count(r => r == "processing_error"));
        var one = output.Records.OfType<DeadLetter>().First(d => d.Reason == RejectReason.ProcessingError);
        Assert.Equal(typeof(InjectedFaultException).FullName, one.ErrorType);
        Assert.StartsWith(typeof(InjectedFaultException).FullName + ": injected fault while applying event ", one.Detail);
    }

    [Fact]
    public void Guard_PoisonRecords_CommittedStateEqualsRunThatNeverAppliedThem()
    {
        var (log, poison) = Scenario(seed: 22, every: 211);
        var (_, faulty, _) = RunGuarded(log, Options with { FaultInjector = new ThrowOnEventIds(poison) }, crashEvery: null, passivate: false);

        // Reference run of the engine: the poison records are dead-lettered up front and never reach entity code.
        var clean = new MemoryPartitionState[Partitions];
        for (var p = 0; p < Partitions; p++)
        {
            clean[p] = new MemoryPartitionState();
            var shard = clean[p].Restore(p, Options, Catalog, new ListShardOutput());
            foreach (var (input, _) in log.Partitions[p])
            {
                if (IsPoison(input, poison)) shard.RejectPoison(input, new PoisonRecordException(Decode(input), new InjectedFaultException("x")));
                else shard.Process(input);
            }
            clean[p].Commit(shard, log.Partitions[p].Count);
        }
        for (var p = 0; p < Partitions; p++)
        {
            Assert.Equal(clean[p].Entities.Keys.Order(), faulty[p].Entities.Keys.Order());
            foreach (var (key, bytes) in clean[p].Entities) Assert.True(bytes.SequenceEqual(faulty[p].Entities[key]), $"partition {p} entity {key} differs");
            Assert.Equal(clean[p].Timers.OrderBy(kv => kv.Key), faulty[p].Timers.OrderBy(kv => kv.Key));
            Assert.Equal(clean[p].ShardState, faulty[p].ShardState);   // watermark, counters (incl. processing_error) and range ends
        }
    }

    [Theory]
    [InlineData(23, 401, false)]
    [InlineData(24, 977, true)]
    public void Guard_PoisonRecordsWithCrashesAndPassivation_EqualReference(long seed, int crashEvery, bool passivate)
    {
        var (log, poison) = Scenario(seed, every: 257);
        var (output, _, _) = RunGuarded(log, Options with { FaultInjector = new ThrowOnEventIds(poison) }, crashEvery, passivate);
        var reference = Reference(log, poison);
        OutputAssert.Same(reference.Outputs, OutputComparison.ByUser(output.Records));
        var deadLetters = new Dictionary<(int, long), string>();
        foreach (var d in output.Records.OfType<DeadLetter>())
        {
            var key = (d.Source.Partition, d.Source.Offset);
            Assert.True(!deadLetters.TryGetValue(key, out var earlier) || earlier == d.Reason.Code(), $"{key} dead-lettered as {earlier} and {d.Reason.Code()}");
            deadLetters[key] = d.Reason.Code();
        }
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
    }

    private static readonly long T = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static InputRecord Record(long offset, string user, string eventId, long ts, string type = "click") =>
        new("clickstream", 0, offset, Encoding.UTF8.GetBytes(user),
            Encoding.UTF8.GetBytes($$"""{"event_id":"{{eventId}}","user_id":"{{user}}","type":"{{type}}","ts":{{ts}},"device":"mobile","country":"DE"}"""), ts);

    private static ClickEvent Decode(InputRecord r) => new EventDecoder(new DecoderOptions()).Decode(r.Key, r.Value, r.TimestampMs, "x").Event!;

    [Fact]
    public void Guard_PoisonAfterWatermarkFiredOtherTimers_UndoesThemAndTheUserContinues()
    {
        // u2's session is due at T + 35 min (gap 30 + grace 5). The poison event of u1 at T + 40 min advances the watermark past it,
        // so u2's session closes and u1's entity changes before the fault: all of it must be undone.
        var output = new ListShardOutput();
        var state = new MemoryPartitionState();
        var options = new ShardOptions { FaultInjector = new ThrowOnEventIds(["poison"]) };
        var shard = state.Restore(0, options, Catalog, output);
        var guard = Guard(shard, state);
        guard.Process(Record(0, "u1", "a", T));
        guard.Process(Record(1, "u2", "b", T + 1));
        state.Commit(shard, 2);
        guard.Checkpointed();
        guard.Process(Record(2, "u1", "c", T + 2 * 60_000));
        var beforePoison = output.Records.Count;
        guard.Process(Record(3, "u1", "poison", T + 40 * 60_000, "purchase"));

        var dead = Assert.IsType<DeadLetter>(Assert.Single(output.Records.Skip(beforePoison)));   // nothing else: u2's close was undone
        Assert.Equal((RejectReason.ProcessingError, "clickstream/0@3"), (dead.Reason, dead.RecordId));
        Assert.Contains("injected fault while applying event poison of u1", dead.Detail);
        Assert.Equal(T + 2 * 60_000, shard.WatermarkMs);
        Assert.Equal(2, shard.Peek("u1")!.Engagement.TotalEvents);   // reloaded and replayed: a, c
        Assert.Equal(0, shard.Counters.Rejected[(int)RejectReason.LateEvent]);
        Assert.Equal(1, shard.Counters.Rejected[(int)RejectReason.ProcessingError]);
        Assert.Equal(4, shard.Counters.Records);

        // The user's later events are processed; now u2's session closes, once, at the right time.
        guard.Process(Record(4, "u1", "d", T + 41 * 60_000, "purchase"));
        Assert.Equal(3, shard.Peek("u1")!.Engagement.TotalEvents);
        Assert.Equal(1, shard.Peek("u1")!.Engagement.TotalPurchases);
        var closes = output.Records.OfType<SessionClosedOutput>().ToList();
        Assert.Equal(["u1", "u2"], closes.Select(c => c.UserId).Order());
        Assert.All(closes, c => Assert.Equal(1, output.Records.Count(o => o.RecordId == c.RecordId)));
    }

    /// <summary>Passes an event the first time it is applied and throws every later time (a fault that shows only on replay).</summary>
    private sealed class ThrowsFromSecondTime(string eventId) : IEntityFaultInjector
    {
        private int _seen;

        public void OnApplying(ClickEvent e)
        {
            if (e.EventId == eventId && ++_seen > 1) throw new InvalidOperationException($"flaky {eventId}");
        }
    }

    private sealed class Both(IEntityFaultInjector a, IEntityFaultInjector b) : IEntityFaultInjector
    {
        public void OnApplying(ClickEvent e) { a.OnApplying(e); b.OnApplying(e); }
    }

    [Fact]
    public void Guard_FaultAppearingOnlyDuringReplay_IsDeadLetteredTooAndEnds()
    {
        var output = new ListShardOutput();
        var state = new MemoryPartitionState();
        var options = new ShardOptions { FaultInjector = new Both(new ThrowsFromSecondTime("flaky"), new ThrowOnEventIds(["poison"])) };
        var shard = state.Restore(0, options, Catalog, output);
        var guard = Guard(shard, state);
        guard.Process(Record(0, "u1", "a", T));
        guard.Process(Record(1, "u2", "flaky", T + 1000));
        guard.Process(Record(2, "u1", "poison", T + 2000));
        guard.Process(Record(3, "u2", "e", T + 3000));

        var dead = output.Records.OfType<DeadLetter>().ToList();
        Assert.Equal(["clickstream/0@1", "clickstream/0@2"], dead.Select(d => d.RecordId).Order());
        Assert.All(dead, d => Assert.Equal(RejectReason.ProcessingError, d.Reason));
        Assert.Equal(2, guard.PoisonRecords);
        Assert.Equal(2, shard.Counters.Rejected[(int)RejectReason.ProcessingError]);
        Assert.Equal(2, shard.Counters.ValidEvents);
        Assert.Equal(1, shard.Peek("u2")!.Engagement.TotalEvents);
    }

    /// <summary>An entity source that fails while <see cref="Down"/> is set, like a store that is unreachable.</summary>
    private sealed class FlakySource(MemoryPartitionState inner) : IEntityStateSource
    {
        public bool Down;

        public byte[]? Load(string key) => Down ? throw new IOException("store unreachable") : inner.Load(key);
    }

    [Fact]
    public void Guard_StoreFailsMidRecord_RetryAfterRecoveryEqualsUninterruptedRun()
    {
        var (log, _) = Scenario(seed: 25, every: int.MaxValue);
        var records = log.Partitions[0].Select(x => x.Input).Take(3_000).ToList();

        var cleanState = new MemoryPartitionState();
        var cleanOutput = new ListShardOutput();
        var clean = cleanState.Restore(0, Options, Catalog, cleanOutput);
        foreach (var r in records) clean.Process(r);
        cleanState.Commit(clean, records.Count);

        var state = new MemoryPartitionState();
        var source = new FlakySource(state);
        var output = new ListShardOutput();
        var shard = new UserShard(0, Options, Catalog, output, source);
        var guard = Guard(shard, state);
        var failures = 0;
        for (var i = 0; i < records.Count; i++)
        {
            if (i % 500 == 499) { state.Commit(shard, i); guard.Checkpointed(); shard.Passivate(long.MaxValue); }
            source.Down = i % 500 == 499;   // the store goes away for the first record after passivation forced reloads
            try { guard.Process(records[i]); }
            catch (EntityStateException)
            {
                failures++;
                source.Down = false;
                guard.Retry();
            }
        }
        state.Commit(shard, records.Count);

        Assert.True(failures > 0, "the store outage should have hit a reload");
        Assert.Equal(cleanState.Entities.Keys.Order(), state.Entities.Keys.Order());
        foreach (var (key, bytes) in cleanState.Entities) Assert.True(bytes.SequenceEqual(state.Entities[key]), $"entity {key} differs");
        Assert.Equal(cleanState.ShardState, state.ShardState);
        Assert.Equal(cleanOutput.Records.Select(o => o.RecordId), output.Records.Select(o => o.RecordId));
    }
}
