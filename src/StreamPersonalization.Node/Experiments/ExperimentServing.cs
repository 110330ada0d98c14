using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// The serving half of experiments on one node: the catalog (file + admin definitions, refreshed), the
/// experiment-state reader feeding bandit allocations and snapshots, and the assignment service with its
/// group-commit writer. Started by <c>run</c> and <c>demo</c>; disposing stops the background loops.
/// </summary>
public sealed class ExperimentServing : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _loops;
    private readonly AssignmentWriter _writer;
    private readonly IDisposable _producer;

    private ExperimentServing(ExperimentServices services, AssignmentWriter writer, CancellationTokenSource stop, Task[] loops, IDisposable producer)
    {
        (Services, _writer, _stop, _loops, _producer) = (services, writer, stop, loops, producer);
    }

    /// <summary>What the HTTP routes need.</summary>
    public ExperimentServices Services { get; }

    public static async Task<ExperimentServing> StartAsync(NodeSettings settings, KafkaOptions kafka, ExperimentCatalog fileCatalog,
        SegmentCatalog segments, ICheckpointStore store, ILoggerFactory loggers, CancellationToken ct,
        Core.Privacy.Pseudonymization.UserIdPseudonymizer? pseudonymizer = null, Core.Privacy.ShardPrivacy? privacy = null)
    {
        if (store is not IEntityLookup lookup) throw new ArgumentException($"{store.GetType().Name} cannot look entities up by key", nameof(store));
        await store.InitializeAsync(ct).ConfigureAwait(false);   // creates the assignment and definition tables too
        var source = new ExperimentCatalogSource(fileCatalog);
        var definitions = settings.CreateDefinitionStore();
        source.Apply(await definitions.ListDefinitionsAsync(ct).ConfigureAwait(false));
        var board = new SnapshotBoard();
        var assignments = settings.CreateAssignmentStore();
        var writer = new AssignmentWriter(assignments, settings.Experiments.AssignmentWriteBatch, loggers.CreateLogger<AssignmentWriter>());
        Func<string, string>? storeKey = pseudonymizer is null ? null : id => pseudonymizer.Pseudonymize(id);
        var service = new AssignmentService(source, segments, new UserFactsReader(lookup, segments, settings.Experiments.UserFactsTtl), assignments, writer, board,
            settings.Experiments, storeKey: storeKey, personalizationOff: privacy is null ? null : privacy.PersonalizationOff);
        var clients = new KafkaClientFactory(kafka, loggers.CreateLogger<KafkaClientFactory>());
        var producer = clients.CreateProducer($"{settings.Node.NodeId}-admin");
        var users = new UserServices(lookup, segments, new Core.Engagement.HalfLifeDecay(settings.Shards.Engagement.HalfLife), assignments,
            privacy is null ? _ => false : privacy.PersonalizationOff, (id, ct) => ProduceForgetAsync(producer, kafka.ClickstreamTopic, id, ct));
        var services = new ExperimentServices(source, service, board, definitions, settings.Http.ResolveAdminToken(), users);
        var stop = new CancellationTokenSource();
        var reader = new ExperimentStateReader(settings.Node, kafka, board, new KafkaClientFactory(kafka, loggers.CreateLogger<KafkaClientFactory>()), loggers.CreateLogger<ExperimentStateReader>());
        var refresher = new DefinitionRefresher(source, definitions, settings.Experiments, loggers.CreateLogger<DefinitionRefresher>());
        return new ExperimentServing(services, writer, stop, [reader.RunAsync(stop.Token), refresher.RunAsync(stop.Token)], producer);
    }

    /// <summary>A <c>forget</c> event keyed by the raw id, as a platform would send it (the node pseudonymises it at ingest).</summary>
    private static async Task ProduceForgetAsync(Confluent.Kafka.IProducer<byte[], byte[]> producer, string topic, string userId, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var value = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["event_id"] = $"forget-{Guid.NewGuid():N}", ["user_id"] = userId, ["type"] = "forget", ["ts"] = now.ToUnixTimeMilliseconds(),
        });
        await producer.ProduceAsync(topic, new Confluent.Kafka.Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(userId), Value = value }, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await Task.WhenAll(_loops).ConfigureAwait(false); } catch (OperationCanceledException) { }
        await _writer.DisposeAsync().ConfigureAwait(false);
        _producer.Dispose();
        _stop.Dispose();
    }
}
