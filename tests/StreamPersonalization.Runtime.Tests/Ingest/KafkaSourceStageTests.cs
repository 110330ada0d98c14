using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Xunit.Abstractions;
using StreamPersonalization.Runtime.Ingest;

namespace StreamPersonalization.Runtime.Tests.Ingest;

/// <summary>
/// <see cref="KafkaSourceStage"/> on the embedded Kafka: order and start offsets, back-pressure that pauses a partition
/// and loses nothing, a partition paused at revoke that flows again when it comes back, and a rebalance between two
/// members where revokes wait for the checkpoint so that every record is processed exactly once across both.
/// </summary>
public sealed class KafkaSourceStageTests : Akka.TestKit.Xunit2.TestKit, IClassFixture<EmbeddedKafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly EmbeddedKafkaFixture kafka;
    private readonly ITestOutputHelper output;

    public KafkaSourceStageTests(EmbeddedKafkaFixture kafka, ITestOutputHelper output) : base(output: output) => (this.kafka, this.output) = (kafka, output);

    [Fact]
    public async Task Source_EmitsAssignedThenRecordsInOffsetOrder_FromTheCheckpointOffsets()
    {
        kafka.Produce("order", partitions: 4, perPartition: 500);
        var events = new ConcurrentQueue<PartitionEvent>();
        var stage = new KafkaSourceStage(kafka.Consumer("order-g"), "order", p => p == 2 ? 120 : null);
        var (control, done) = Source.FromGraph(stage)
            .ToMaterialized(Sink.ForEach<PartitionEvent>(e => { events.Enqueue(e); (e as PartitionRevoked)?.Acknowledge(); }), Keep.Both)
            .Run(Sys.Materializer());

        await Eventually.UntilAsync(() => Records(events).Count() == 4 * 500 - 120);
        await control.DrainAsync().WaitAsync(Patience);
        await done.WaitAsync(Patience);   // the source completes after the drain

        foreach (var p in Enumerable.Range(0, 4))
        {
            var mine = events.Where(e => e.Partition == p).ToList();
            Assert.Equal(new PartitionAssigned(p, p == 2 ? 120 : null), mine[0]);
            Assert.IsType<PartitionRevoked>(mine[^1]);
            var offsets = mine.OfType<PartitionRecords>().SelectMany(r => r.Records).Select(r => r.Offset.Value).ToList();
            Assert.Equal(Enumerable.Range(p == 2 ? 120 : 0, p == 2 ? 380 : 500).Select(i => (long)i), offsets);
        }
    }

    [Fact]
    public async Task BackPressure_PausesThePartition_ThenDeliversEveryRecordOnce()
    {
        kafka.Produce("slow", partitions: 1, perPartition: 5_000);
        var stage = new KafkaSourceStage(kafka.Consumer("slow-g"), "slow", _ => null, new KafkaSourceOptions { MaxBufferedPerPartition = 300, MaxBatch = 50 });
        var (control, queue) = Source.FromGraph(stage)
            .ToMaterialized(Sink.Queue<PartitionEvent>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Keep.Both)
            .Run(Sys.Materializer());

        // Nobody pulls: the partition is paused once 300 records wait.
        await Eventually.UntilAsync(() => control.Paused.Contains(0));
        await Task.Delay(TimeSpan.FromSeconds(1));   // paused for real: fetching stopped at the bound (+ the batch that crossed it)
        Assert.InRange(control.BufferedRecords(0), 300, 300 + 50);
        var offsets = new List<long>();
        while (offsets.Count < 5_000)
        {
            var next = (await queue.PullAsync().WaitAsync(Patience)).Value;
            if (next is PartitionRecords r)
            {
                Assert.True(r.Records.Count <= 50, r.ToString());
                offsets.AddRange(r.Records.Select(x => x.Offset.Value));
            }
        }
        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => (long)i), offsets);
        await Eventually.UntilAsync(() => control.Paused.Count == 0);
        await DrainAsync(control, queue);
    }

    [Fact]
    public async Task Rebalance_RevokeWaitsForTheCheckpoint_EveryRecordProcessedOnceAcrossMembers()
    {
        const int partitions = 4, half = 1_500;
        kafka.Produce("moves", partitions, half);
        var checkpoints = new ConcurrentDictionary<int, long>();
        var processed = new ConcurrentQueue<(string Member, int Partition, long Offset)>();
        var revokedOnA = 0;
        var assignedToB = 0;

        (KafkaSourceControl Control, Task Done) Member(string name) => Source.FromGraph(
                new KafkaSourceStage(kafka.Consumer("moves-g"), "moves", p => checkpoints.TryGetValue(p, out var o) ? o : null,
                    new KafkaSourceOptions { MaxBatch = 100 }))
            .Via(Flow.Create<PartitionEvent>().Async())   // the processor runs apart from the source, as the node's graph will
            .ToMaterialized(Sink.ForEach<PartitionEvent>(new CheckpointingProcessor(name, checkpoints, processed,
                onRevoke: () => { if (name == "a") Interlocked.Increment(ref revokedOnA); },
                onAssign: () => { if (name == "b") Interlocked.Increment(ref assignedToB); }).Handle), Keep.Both)
            .Run(Sys.Materializer());

        var a = Member("a");
        await Eventually.UntilAsync(() => processed.Count >= 1_000);
        var b = Member("b");   // joins: cooperative-sticky moves some of a's partitions to b
        await Eventually.UntilAsync(() => Volatile.Read(ref revokedOnA) > 0 && Volatile.Read(ref assignedToB) > 0);
        kafka.Produce("moves", partitions, half, create: false);
        await Eventually.UntilAsync(() => processed.Count >= partitions * 2 * half);
        await Task.WhenAll(a.Control.DrainAsync(), b.Control.DrainAsync()).WaitAsync(Patience);

        var seen = processed.GroupBy(x => (x.Partition, x.Offset)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(partitions * 2 * half, seen.Count);
        Assert.All(seen, kv => Assert.Equal(1, kv.Value));
        Assert.Contains(processed, x => x.Member == "b");
        Assert.Equal(Enumerable.Range(0, partitions).Select(p => (p, 2L * half)), checkpoints.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)));
        output.WriteLine($"a processed {processed.Count(x => x.Member == "a")}, b {processed.Count(x => x.Member == "b")}; a revoked {revokedOnA} partitions");
    }

    [Fact]
    public async Task PausedPartition_RevokedAndAssignedAgain_FlowsAgain()
    {
        kafka.Produce("again", partitions: 1, perPartition: 2_000);
        var checkpoints = new ConcurrentDictionary<int, long>();
        var options = new KafkaSourceOptions { MaxBufferedPerPartition = 100, MaxBatch = 20 };
        var first = new KafkaSourceStage(kafka.Consumer("again-g"), "again", _ => null, options);
        var (control, queue) = Source.FromGraph(first)
            .ToMaterialized(Sink.Queue<PartitionEvent>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Keep.Both)
            .Run(Sys.Materializer());
        await Eventually.UntilAsync(() => control.Paused.Contains(0));
        // Take a few records, then drain: the revoke is acknowledged with the checkpoint of what was taken.
        long next = 0;
        var drained = control.DrainAsync();
        while (true)
        {
            var e = (await queue.PullAsync().WaitAsync(Patience)).Value;
            if (e is PartitionRecords r) next = r.LastOffset + 1;
            if (e is PartitionRevoked revoked) { checkpoints[0] = next; revoked.Acknowledge(); break; }
        }
        await drained.WaitAsync(Patience);
        Assert.True(next > 0);

        // The same group again: the partition comes back unpaused and delivers the rest from the checkpoint.
        var events = new ConcurrentQueue<PartitionEvent>();
        var (control2, _) = Source.FromGraph(new KafkaSourceStage(kafka.Consumer("again-g"), "again", p => checkpoints[p], options))
            .ToMaterialized(Sink.ForEach<PartitionEvent>(e => { events.Enqueue(e); (e as PartitionRevoked)?.Acknowledge(); }), Keep.Both)
            .Run(Sys.Materializer());
        await Eventually.UntilAsync(() => Records(events).Count() == 2_000 - next);
        Assert.Equal(Enumerable.Range((int)next, 2_000 - (int)next).Select(i => (long)i), Records(events).Select(r => r.Offset.Value));
        await control2.DrainAsync().WaitAsync(Patience);
    }

    /// <summary>Drains the source while pulling what is left until its revoke, which it acknowledges.</summary>
    private static async Task DrainAsync(KafkaSourceControl control, ISinkQueue<PartitionEvent> queue)
    {
        var drained = control.DrainAsync();
        while (true)
        {
            var e = (await queue.PullAsync().WaitAsync(Patience)).Value;
            if (e is PartitionRevoked revoked) { revoked.Acknowledge(); break; }
        }
        await drained.WaitAsync(Patience);
    }

    [Fact]
    public async Task PausedPartition_MovedAwayAndBackToTheSameConsumer_IsResumed_EveryRecordOnce()
    {
        const int perPartition = 3_000;
        kafka.Produce("back", partitions: 2, perPartition);
        var checkpoints = new ConcurrentDictionary<int, long>();
        var options = new KafkaSourceOptions { MaxBufferedPerPartition = 200, MaxBatch = 50 };
        var delivered = new List<(string Member, long Partition, long Offset)>();
        (KafkaSourceControl, ISinkQueue<PartitionEvent>) Member() => Source.FromGraph(
                new KafkaSourceStage(kafka.Consumer("back-g"), "back", p => checkpoints.TryGetValue(p, out var o) ? o : null, options))
            .ToMaterialized(Sink.Queue<PartitionEvent>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Keep.Both)
            .Run(Sys.Materializer());
        var next = new Dictionary<(string, int), long>();
        async Task<PartitionEvent> PullAsync(string member, ISinkQueue<PartitionEvent> queue)
        {
            var e = (await queue.PullAsync().WaitAsync(Patience)).Value;
            output.WriteLine($"{member}: {e}");
            switch (e)
            {
                case PartitionAssigned a: next[(member, a.Partition)] = a.StartOffset ?? 0; break;
                case PartitionRecords r:
                    foreach (var x in r.Records)
                    {
                        Assert.Equal(next[(member, r.Partition)], x.Offset.Value);
                        delivered.Add((member, r.Partition, x.Offset.Value));
                        next[(member, r.Partition)] = x.Offset.Value + 1;
                    }
                    break;
                case PartitionRevoked v: checkpoints[v.Partition] = next[(member, v.Partition)]; v.Acknowledge(); break;
            }
            return e;
        }

        var (a, aQueue) = Member();
        for (var assigned = 0; assigned < 2;)
            if (await PullAsync("a", aQueue) is PartitionAssigned) assigned++;
        await Eventually.UntilAsync(() => a.Paused.Count == 2);   // both partitions held up by a sink that does not pull
        var (b, bQueue) = Member();                     // joins: one partition, paused on a, moves to b
        await Eventually.UntilAsync(() => a.QueuedControlEvents > 0);
        int moved;
        while (true) if (await PullAsync("a", aQueue) is PartitionRevoked r) { moved = r.Partition; break; }
        while (await PullAsync("b", bQueue) is not PartitionAssigned) { }
        // b leaves (drained while it holds a few records): the partition goes back to a's same consumer.
        var bDrained = b.DrainAsync();
        while (await PullAsync("b", bQueue) is not PartitionRevoked) { }
        await bDrained.WaitAsync(Patience);
        var returnedAt = checkpoints[moved];
        Assert.True(returnedAt < perPartition - options.MaxBufferedPerPartition, $"too little left to see it flow: {returnedAt}");

        // a now takes everything: the returned partition must flow again from its checkpoint (it was paused when it left).
        while (delivered.Count(x => x.Member == "a" && x.Partition == moved && x.Offset >= returnedAt) < perPartition - returnedAt
               || delivered.Count(x => x.Partition == 1 - moved) < perPartition)
            await PullAsync("a", aQueue);
        var all = delivered.GroupBy(x => (x.Partition, x.Offset)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(2 * perPartition, all.Count);
        Assert.All(all, kv => Assert.Equal(1, kv.Value));
        var aDrained = a.DrainAsync();
        for (var revokes = 0; revokes < 2;)
            if (await PullAsync("a", aQueue) is PartitionRevoked) revokes++;
        await aDrained.WaitAsync(Patience);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HoldUntilReleased_APartitionHeldDownstream_IsPausedAlone_ThenResumesWhenReleased(bool hold)
    {
        const int perPartition = 3_000;
        var topic = $"held-{hold}";
        kafka.Produce(topic, partitions: 2, perPartition);
        var options = new KafkaSourceOptions { MaxBufferedPerPartition = 200, MaxBatch = 50, HoldUntilReleased = hold };
        var held = new ConcurrentQueue<PartitionRecords>();   // partition 0's batches: taken but not released
        var delivered = new ConcurrentDictionary<int, int>();
        var events = new ConcurrentQueue<PartitionEvent>();
        var (control, _) = Source.FromGraph(new KafkaSourceStage(kafka.Consumer($"{topic}-g"), topic, _ => null, options))
            .ToMaterialized(Sink.ForEach<PartitionEvent>(e =>
            {
                events.Enqueue(e);
                if (e is PartitionRecords r)
                {
                    delivered.AddOrUpdate(r.Partition, r.Records.Count, (_, n) => n + r.Records.Count);
                    if (r.Partition == 0) held.Enqueue(r); else r.Release(r.Records.Count);
                }
                (e as PartitionRevoked)?.Acknowledge();
            }), Keep.Both)
            .Run(Sys.Materializer());

        // Partition 1 is released as it arrives and flows to its end whatever partition 0 does.
        await Eventually.UntilAsync(() => delivered.GetValueOrDefault(1) == perPartition);
        if (hold)
        {
            await Eventually.UntilAsync(() => control.Paused.Contains(0));
            await Task.Delay(TimeSpan.FromSeconds(1));   // paused for real: nothing more of it arrives
            Assert.DoesNotContain(1, control.Paused);
            Assert.InRange(delivered.GetValueOrDefault(0), options.MaxBufferedPerPartition, options.MaxBufferedPerPartition + options.MaxBatch);
            Assert.Equal(delivered[0], control.BufferedRecords(0));   // emitted, not released: still counted
            // Downstream takes what it held: the partition resumes and delivers the rest, each record once.
            while (delivered.GetValueOrDefault(0) < perPartition || !held.IsEmpty)
            {
                while (held.TryDequeue(out var r)) r.Release(r.Records.Count);
                await Task.Delay(20);
            }
        }
        // Either way partition 0 arrives whole: held, once released; not held, without a pause (counted until emitted).
        await Eventually.UntilAsync(() => delivered.GetValueOrDefault(0) == perPartition);
        var offsets = new List<long>();
        foreach (var e in events.Where(e => e.Partition == 0).OfType<PartitionRecords>()) offsets.AddRange(e.Records.Select(r => r.Offset.Value));
        Assert.Equal(Enumerable.Range(0, perPartition).Select(i => (long)i), offsets);   // each record once, in order
        await Eventually.UntilAsync(() => control.BufferedRecords(0) == 0 && control.BufferedRecords(1) == 0);
        await control.DrainAsync().WaitAsync(Patience);
    }

    private static IEnumerable<Confluent.Kafka.ConsumeResult<byte[], byte[]>> Records(IEnumerable<PartitionEvent> events) =>
        events.OfType<PartitionRecords>().SelectMany(r => r.Records);

    /// <summary>What the node's graph will do, reduced to offsets: process records, checkpoint a partition's next offset
    /// when it is revoked, then acknowledge; drop a lost partition.</summary>
    private sealed class CheckpointingProcessor(string member, ConcurrentDictionary<int, long> checkpoints,
        ConcurrentQueue<(string, int, long)> processed, Action onRevoke, Action onAssign)
    {
        private readonly Dictionary<int, long> _next = [];

        public void Handle(PartitionEvent e)
        {
            switch (e)
            {
                case PartitionAssigned a:
                    _next[a.Partition] = a.StartOffset ?? 0;
                    onAssign();
                    break;
                case PartitionRecords r:
                    foreach (var x in r.Records)
                    {
                        Assert.Equal(_next[r.Partition], x.Offset.Value);   // no gap, no repeat within a member
                        processed.Enqueue((member, r.Partition, x.Offset.Value));
                        _next[r.Partition] = x.Offset.Value + 1;
                    }
                    break;
                case PartitionRevoked v:
                    checkpoints[v.Partition] = _next[v.Partition];
                    _next.Remove(v.Partition);
                    onRevoke();
                    v.Acknowledge();
                    break;
                case PartitionLost l:
                    _next.Remove(l.Partition);
                    break;
            }
        }
    }
}
