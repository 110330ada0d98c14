namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// The global simulated clock: one priority queue holds every user's next event and every delayed
/// (out-of-order) event, keyed by emission time, so records come out in approximately event-time
/// order across all users. Ties break by insertion sequence, which keeps the order deterministic.
/// </summary>
internal sealed class ClickstreamSimulation
{
    private const ulong ProfileStream = 1, BehaviourStream = 2, TransportStream = 3, BadStream = 4, CatalogStream = 5;

    private readonly ClickstreamGeneratorOptions _options;
    private readonly PriorityQueue<object, (long TimeMs, long Seq)> _queue;
    private readonly SessionSimulator _sessions;
    private readonly EventJsonWriter _writer;
    private readonly BadRecordFactory _bad;
    private readonly DeterministicRandom _transport;
    private readonly DeterministicRandom _badChoice;
    private long _clockMs;
    private long _queueSeq;
    private long _eventSeq;

    /// <summary>An event held back to be emitted after later events.</summary>
    private sealed class DelayedEvent(SimulatedEvent ev)
    {
        public readonly SimulatedEvent Event = ev;
    }

    private sealed class TimeThenSequence : IComparer<(long TimeMs, long Seq)>
    {
        public static readonly TimeThenSequence Instance = new();
        public int Compare((long TimeMs, long Seq) x, (long TimeMs, long Seq) y)
        {
            int c = x.TimeMs.CompareTo(y.TimeMs);
            return c != 0 ? c : x.Seq.CompareTo(y.Seq);
        }
    }

    public ClickstreamSimulation(ClickstreamGeneratorOptions options)
    {
        _options = options;
        var users = Users = UserPopulation.Create(options, new DeterministicRandom(options.Seed, ProfileStream));
        var catalog = new ProductCatalog(new DeterministicRandom(options.Seed, CatalogStream));
        _sessions = new SessionSimulator(options, new DeterministicRandom(options.Seed, BehaviourStream), catalog);
        _writer = new EventJsonWriter("e" + options.Seed.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        _transport = new DeterministicRandom(options.Seed, TransportStream);
        var badRng = new DeterministicRandom(options.Seed, BadStream);
        _badChoice = badRng;
        _bad = new BadRecordFactory(options, badRng, users);
        _clockMs = options.StartTime.ToUnixTimeMilliseconds();
        _queue = new PriorityQueue<object, (long, long)>(users.Length + 64, TimeThenSequence.Instance);
        foreach (var user in users) _queue.Enqueue(user, (user.NextEventMs, _queueSeq++));
    }

    /// <summary>The simulated users (the hostile corpus builds its records from them).</summary>
    public SimulatedUser[] Users { get; }

    /// <summary>The simulation clock: emission time of the latest record; no valid event time is later.</summary>
    public long ClockMs => _clockMs;

    public LabeledRecord Next()
    {
        if (_options.BadRecordShare > 0 && _badChoice.NextDouble() < _options.BadRecordShare)
            return _bad.Create(_clockMs);

        while (true)
        {
            _queue.TryDequeue(out object? entry, out var priority);
            _clockMs = priority.TimeMs;
            if (entry is DelayedEvent delayed)
                return Emit(delayed.Event, outOfOrder: true);

            var user = (SimulatedUser)entry!;
            var ev = _sessions.NextEvent(user, ++_eventSeq);
            _queue.Enqueue(user, (user.NextEventMs, _queueSeq++));
            if (_options.MaxOutOfOrderMs > 0 && _options.OutOfOrderShare > 0 && _transport.NextDouble() < _options.OutOfOrderShare)
            {
                long emitAt = ev.TsMs + _transport.NextLong(1, _options.MaxOutOfOrderMs);
                _queue.Enqueue(new DelayedEvent(ev), (emitAt, _queueSeq++));
                continue;
            }
            return Emit(ev, outOfOrder: false);
        }
    }

    private LabeledRecord Emit(in SimulatedEvent ev, bool outOfOrder)
    {
        long kafkaMs = _clockMs + _transport.NextLong(0, _options.MaxIngestDelayMs);
        var record = new SyntheticRecord(ev.User.Id, _writer.Write(ev), kafkaMs, null);
        return new LabeledRecord(record, null, outOfOrder);
    }
}
