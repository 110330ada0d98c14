using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Users;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests.Experiments;

/// <summary>
/// One "node" of the assignment API without Kafka: its own catalog source, snapshot board, cache and writer over a
/// SQLite file that several test beds can share (as nodes share a database).
/// </summary>
internal sealed class AssignmentTestBed : IAsyncDisposable
{
    public const string CatalogYaml = """
        version: 1
        experiments:
          - id: split
            kind: fixed
            status: running
            variants: [ { id: control, weight: 1 }, { id: treatment, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: control
          - id: bandit
            kind: bandit
            status: running
            variants: [ { id: a, weight: 1 }, { id: b, weight: 1 }, { id: c, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: a
          - id: desktop-only
            kind: fixed
            status: running
            variants: [ { id: control, weight: 1 }, { id: treatment, weight: 1 } ]
            targeting: { devices: [desktop] }
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: control
          - id: paused
            kind: fixed
            status: paused
            variants: [ { id: control, weight: 1 }, { id: treatment, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: control
          - id: stopped
            kind: fixed
            status: stopped
            variants: [ { id: control, weight: 1 }, { id: treatment, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: control
        """;

    /// <summary>The market where the test beds switch personalization off.</summary>
    public const string DisabledMarket = "FR";

    public static ExperimentCatalog FileCatalog { get; } = ExperimentCatalogLoader.Parse(CatalogYaml, "test-catalog");

    private AssignmentTestBed(string path, SqliteCheckpointStore store, ExperimentCatalogSource catalog, SnapshotBoard board, AssignmentWriter writer, AssignmentService service)
    {
        (Path, Store, Catalog, Board, Writer, Service) = (path, store, catalog, board, writer, service);
    }

    public string Path { get; }
    public SqliteCheckpointStore Store { get; }
    public ExperimentCatalogSource Catalog { get; }
    public SnapshotBoard Board { get; }
    public AssignmentWriter Writer { get; }
    public AssignmentService Service { get; }
    public SqliteDefinitionStore Definitions => new(new SqliteStoreOptions { Path = Path });

    public static async Task<AssignmentTestBed> OpenAsync(string path, ExperimentCatalog? catalog = null, ExperimentOptions? options = null)
    {
        var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await store.InitializeAsync();
        var source = new ExperimentCatalogSource(catalog ?? FileCatalog);
        var assignments = new SqliteAssignmentStore(new SqliteStoreOptions { Path = path });
        var writer = new AssignmentWriter(assignments, 64, NullLogger<AssignmentWriter>.Instance);
        var board = new SnapshotBoard();
        var service = new AssignmentService(source, PipelineScenario.Catalog, new UserFactsReader(store, PipelineScenario.Catalog), assignments, writer, board,
            options ?? new ExperimentOptions(), personalizationOff: country => country == DisabledMarket);
        return new AssignmentTestBed(path, store, source, board, writer, service);
    }

    /// <summary>Stores a user entity whose latest event came from <paramref name="device"/>, as a shard checkpoint would.</summary>
    public async Task StoreUserAsync(string user, string device, int partition, string country = "DE", bool consentWithdrawn = false)
    {
        var entity = new UserEntity(user) { ConsentWithdrawn = consentWithdrawn };
        entity.Engagement.ApplyEvent(new ClickEvent("e-" + user, user, EventType.PageView, "page_view", 1_000, Device: device, Country: country), 1, new HalfLifeDecay(TimeSpan.FromDays(7)));
        var existing = await Store.LoadCheckpointAsync("users", partition);
        await Store.CommitAsync(new CheckpointBatch("users", partition, existing?.NextOffset, (existing?.NextOffset ?? 0) + 1, 0, null,
            [new EntityWrite(user, UserStateSerializer.Serialize(entity, PipelineScenario.Catalog), null)]));
    }

    public async Task<AssignmentAnswer> AssignAsync(string experiment, string user) =>
        (await Service.AssignAsync(experiment, [user], CancellationToken.None))!.Single();

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        await Store.DisposeAsync();
    }
}
