using System.Text;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// A seeded corpus of hostile records mixed into regular traffic: <see cref="HostileCorpusOptions.ValidRecords"/>
/// records of the <see cref="ClickstreamGenerator"/>'s simulation (without its own bad records) with
/// <see cref="HostileCorpusOptions.HostileRecords"/> hostile ones (<see cref="HostileKind"/>) spread uniformly after a
/// warm-up. Every record carries the reason the pipeline must give it (<see cref="HostileRecord.Expected"/>).
/// Same options ⇒ the same records, byte for byte. Pure CPU and memory.
/// </summary>
/// <remarks>
/// "Duplicated event id" means, for the pipeline, a second accepted-looking event of the <i>same user</i> with an
/// <c>event_id</c> that user already had accepted within the grace period: it is dead-lettered as
/// <c>duplicate_event</c> (see <c>Shards.EventIdWindow</c>). The same id on another user's event is not a duplicate.
/// </remarks>
public sealed class HostileCorpusGenerator
{
    private const ulong HostileStream = 6, ClassicStream = 7, MixStream = 8;
    private const int RecentCapacity = 64;

    public HostileCorpusGenerator(HostileCorpusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
    }

    public HostileCorpusOptions Options { get; }

    /// <summary>Lazily yields the corpus (ValidRecords + HostileRecords records); each enumeration yields the same records.</summary>
    public IEnumerable<HostileRecord> Generate()
    {
        var traffic = Options.Traffic with { BadRecordShare = 0 };
        var simulation = new ClickstreamSimulation(traffic);
        var factory = new HostileRecordFactory(traffic, new DeterministicRandom(traffic.Seed, HostileStream),
            new DeterministicRandom(traffic.Seed, ClassicStream), simulation.Users);
        var mix = new DeterministicRandom(traffic.Seed, MixStream);
        var decoder = new EventDecoder(new DecoderOptions());
        var recent = new RecentTraffic(RecentCapacity);
        long valid = Options.ValidRecords, hostile = Options.HostileRecords, emitted = 0;
        while (valid + hostile > 0)
        {
            // Uniform interleaving: the next record is hostile with probability (hostile left) / (records left).
            if (hostile > 0 && emitted >= Options.WarmUpRecords && mix.NextLong(1, valid + hostile) <= hostile)
            {
                hostile--;
                yield return factory.Create(simulation.ClockMs, recent);
                continue;
            }
            valid--;
            emitted++;
            var record = simulation.Next().Record;
            var decoded = decoder.Decode(Encoding.UTF8.GetBytes(record.Key!), record.Value, record.TimestampMs, "unused");
            recent.Add(decoded.Event!, record);
            yield return new HostileRecord(record, null, null);
        }
    }
}
