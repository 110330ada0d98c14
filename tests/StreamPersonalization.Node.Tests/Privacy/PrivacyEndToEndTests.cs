using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Privacy.Pseudonymization;
using StreamPersonalization.Core.Users;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Tests.Privacy;

/// <summary>
/// Privacy end to end on the embedded Kafka, with pseudonymisation and the property allowlist on: a generated log plus
/// consent withdrawals and erasures through a node and the experiment stage. Nothing the run produced — output topics,
/// state rows, logs — holds a raw user id; withdrawn users exit their segments, keep only the flag and fall back in
/// assignment; erased users are gone from the store with tombstones, assignments erased and an audit entry.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class PrivacyEndToEndTests(KafkaFixture kafka) : IDisposable
{
    private static readonly string[] Withdrawing = ["u000003", "u000004"];
    private static readonly string[] Forgotten = ["u000005", "u000006"];
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-privacy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sqlite_NoRawIdsAnywhere_ConsentAndErasureTakeEffect()
    {
        var path = Path.Combine(_dir, "private.db");
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await RunAsync("sqlite", store, new SqliteAssignmentStore(new SqliteStoreOptions { Path = path }), () => DumpSqlite(path));
    }

    [Fact]
    public async Task Postgres_NoRawIdsAnywhere_ConsentAndErasureTakeEffect()
    {
        await using var pg = await TestPostgres.CreateAsync();
        await using var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString });
        await RunAsync("postgres", store, new PostgresAssignmentStore(new PostgresStoreOptions { ConnectionString = pg.ConnectionString }), () => DumpPostgres(pg.ConnectionString));
    }

    private async Task RunAsync(string name, ICheckpointStore store, IAssignmentStore assignments, Func<Task<byte[]>> dumpStore)
    {
        using var pseudonymizer = UserIdPseudonymizer.FromOptions(new PseudonymizationOptions(), File.ReadAllBytes);
        var privacy = new ShardPrivacy
        {
            Pseudonymizer = pseudonymizer,
            Properties = PropertyFilter.Create(new PropertyAllowlistOptions { Enabled = true, Allowlist = new() { ["*"] = ["campaign"] } }),
        };
        var scenario = new PipelineScenario(kafka, $"privacy-{name}", seed: 43, count: 12_000, users: 200);
        var run = scenario.KafkaFor("private");
        await store.InitializeAsync();
        var logs = new CapturingLoggerFactory();
        var options = new NodeOptions { NodeId = $"private-{name}", GroupId = $"private-{name}-users", ExperimentsGroupId = $"private-{name}-exp", CheckpointInterval = TimeSpan.FromMilliseconds(200) };
        var node = new StreamNode(options, run, PipelineScenario.ShardOptions with { Privacy = privacy }, PipelineScenario.Catalog, store,
            new KafkaClientFactory(run), logs, experiments: PipelineScenario.Experiments);
        var catalog = new ExperimentCatalogSource(PipelineScenario.Experiments);
        var stage = new ExperimentStage(options, new ExperimentOptions { SnapshotInterval = TimeSpan.FromMilliseconds(200) }, run, catalog, store, new KafkaClientFactory(run), logs);
        await using var writer = new AssignmentWriter(assignments, 64, NullLogger<AssignmentWriter>.Instance);
        var service = new AssignmentService(catalog, PipelineScenario.Catalog, new UserFactsReader((IEntityLookup)store, PipelineScenario.Catalog), assignments, writer,
            new SnapshotBoard(), new ExperimentOptions { AssignmentCacheTtl = TimeSpan.Zero }, storeKey: id => pseudonymizer.Pseudonymize(id), personalizationOff: privacy.PersonalizationOff);
        using var stop = new CancellationTokenSource();
        var running = new[] { node.RunAsync(stop.Token), stage.RunAsync(stop.Token) };

        await UntilCheckpointedAsync(store, scenario.Count, running);
        // Users about to leave are assigned first: their sticky rows must go too.
        foreach (var user in Withdrawing.Concat(Forgotten))
            Assert.Equal("assigned", (await service.AssignAsync("exp-checkout-1", [user], CancellationToken.None))![0].Reason);
        var segmentsBefore = MembershipsOf(await store.FindAsync(pseudonymizer.Pseudonymize(Withdrawing[0])));
        Assert.NotEmpty(segmentsBefore);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var producer = SyntheticProducer.CreateBulkProducer(kafka.Bootstrap))
        {
            foreach (var user in Withdrawing)
                producer.Produce(scenario.Input, Message(user, $$$"""{"event_id":"{{{user}}}-consent","user_id":"{{{user}}}","type":"consent","ts":{{{now}}},"properties":{"personalization":"withdrawn","email":"{{{user}}}@example.com"}}"""));
            foreach (var user in Forgotten)
                producer.Produce(scenario.Input, Message(user, $$"""{"event_id":"{{user}}-forget","user_id":"{{user}}","type":"forget","ts":{{now}}}"""));
            foreach (var user in Withdrawing)   // after the withdrawal: counted, never applied
                producer.Produce(scenario.Input, Message(user, $$"""{"event_id":"{{user}}-later","user_id":"{{user}}","type":"purchase","ts":{{now + 1}},"value":5}"""));
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        var extra = Withdrawing.Length * 2 + Forgotten.Length;
        await UntilCheckpointedAsync(store, scenario.Count + extra, running);
        await Task.Delay(1500);   // the stage's next snapshot round and the relay
        stop.Cancel();
        await Task.WhenAll(running);

        // Consent: exits emitted, only the flag kept, sticky rows deleted, assignment falls back.
        foreach (var user in Withdrawing)
        {
            var key = pseudonymizer.Pseudonymize(user);
            var state = UserStateSerializer.Deserialize(key, (await store.FindAsync(key))!, PipelineScenario.Catalog);
            Assert.True(state.ConsentWithdrawn);
            Assert.Equal((0UL, 0L, 0), (state.Membership, state.Engagement.TotalEvents, state.Sessions.Events.Length));
            Assert.Equal(("control", "no_consent"), Answer(await service.AssignAsync("exp-checkout-1", [user], CancellationToken.None)));
            Assert.Empty(await assignments.GetAsync("exp-checkout-1", [key]));   // a later grant starts without its old variant
        }
        var exits = TopicReader.ReadAll(kafka.Bootstrap, run.SegmentChangesTopic, PipelineScenario.Partitions)
            .Where(r => r.Message.Value is not null && Encoding.UTF8.GetString(r.Message.Key) == pseudonymizer.Pseudonymize(Withdrawing[0]))
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement)
            .Where(t => t.GetProperty("cause").GetString() == "consent_withdrawn").ToList();
        Assert.Equal(segmentsBefore.Order(), exits.Select(t => t.GetProperty("segment").GetString()!).Order());

        // Erasure: no state, tombstones on the keyed outputs, sticky assignment gone (a new answer is not sticky), audited.
        var tombstones = new[] { run.SessionsTopic, run.SegmentChangesTopic }
            .SelectMany(t => TopicReader.ReadAll(kafka.Bootstrap, t, PipelineScenario.Partitions)).Where(r => r.Message.Value is null)
            .Select(r => Encoding.UTF8.GetString(r.Message.Key)).ToList();
        foreach (var user in Forgotten)
        {
            var key = pseudonymizer.Pseudonymize(user);
            Assert.Null(await store.FindAsync(key));
            Assert.Equal(2, tombstones.Count(k => k == key));
            Assert.Empty(await assignments.GetAsync("exp-checkout-1", [key]));
            var again = (await service.AssignAsync("exp-checkout-1", [user], CancellationToken.None))![0];
            Assert.Equal(("assigned", false), (again.Reason, again.Sticky));
        }
        var everything = await dumpStore();
        foreach (var user in Forgotten) Assert.Contains(ErasureAudit.Subject(pseudonymizer.Pseudonymize(user)), Encoding.UTF8.GetString(everything));

        // No raw id in any output topic (keys, values, headers), any state row, or any log line.
        var outputs = new[] { run.SessionsTopic, run.SegmentChangesTopic, run.DeadLetterTopic, run.ExperimentStatsTopic, run.ExperimentStateTopic, run.AlertsTopic }
            .SelectMany(t => TopicReader.ReadAll(kafka.Bootstrap, t, PipelineScenario.Partitions))
            .SelectMany(r => new[] { r.Message.Key ?? [], r.Message.Value ?? [] }.Concat(r.Message.Headers.Select(h => h.GetValueBytes())))
            .ToList();
        Assert.True(outputs.Count > 1000, $"only {outputs.Count} output fields: the run produced too little to prove anything");
        var logText = string.Join("\n", logs.Lines);
        var rawIds = Enumerable.Range(0, 200).Select(i => $"u{i:D6}").Concat(Withdrawing.Select(u => $"{u}@example.com")).ToList();
        foreach (var raw in rawIds)
        {
            var bytes = Encoding.UTF8.GetBytes(raw);
            Assert.False(outputs.Any(o => o.AsSpan().IndexOf(bytes) >= 0), $"raw id {raw} found in an output record");
            Assert.True(everything.AsSpan().IndexOf(bytes) < 0, $"raw id {raw} found in the state store");
            Assert.DoesNotContain(raw, logText);
        }
        // The e-mail in the consent event's properties was dropped at ingest and counted.
        var counted = 0L;
        foreach (var c in await store.LoadCheckpointsAsync("users"))
        {
            var shard = new Core.Shards.UserShard(c.Partition, PipelineScenario.ShardOptions, PipelineScenario.Catalog, new Core.Shards.ListShardOutput());
            shard.RestoreShardState(c.ShardState);
            counted += shard.Counters.Privacy[(int)Core.Shards.PrivacyCounter.PropertyPiiEmail] + shard.Counters.Privacy[(int)Core.Shards.PrivacyCounter.PropertyNotAllowlisted];
        }
        Assert.True(counted >= Withdrawing.Length, $"{counted} dropped properties counted");
    }

    private static (string, string) Answer(IReadOnlyList<AssignmentAnswer>? answers) => (answers![0].Variant, answers[0].Reason);

    private static IReadOnlyList<string> MembershipsOf(byte[]? state) =>
        state is null ? [] : PipelineScenario.Catalog.IdsOf(UserStateSerializer.Deserialize("x", state, PipelineScenario.Catalog).Membership);

    private static Message<byte[], byte[]> Message(string user, string json) =>
        new() { Key = Encoding.UTF8.GetBytes(user), Value = Encoding.UTF8.GetBytes(json) };

    private static async Task UntilCheckpointedAsync(ICheckpointStore store, long count, Task[] running)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await PipelineScenario.CheckpointedAsync(store) < count)
        {
            if (running.FirstOrDefault(t => t.IsCompleted) is { } done) await done;
            Assert.True(DateTime.UtcNow < deadline, $"checkpointed {await PipelineScenario.CheckpointedAsync(store)} of {count}");
            await Task.Delay(100);
        }
    }

    /// <summary>Every value of every table, as bytes (text columns UTF-8).</summary>
    private static async Task<byte[]> DumpSqlite(string path)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sp_%'";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        using var all = new MemoryStream();
        foreach (var table in tables)
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM {table}";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                for (var i = 0; i < reader.FieldCount; i++) Append(all, reader.IsDBNull(i) ? null : reader.GetValue(i));
        }
        return all.ToArray();
    }

    private static async Task<byte[]> DumpPostgres(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'sp_%'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        using var all = new MemoryStream();
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT * FROM {table}", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                for (var i = 0; i < reader.FieldCount; i++) Append(all, reader.IsDBNull(i) ? null : reader.GetValue(i));
        }
        return all.ToArray();
    }

    private static void Append(MemoryStream all, object? value)
    {
        var bytes = value switch { null => [], byte[] b => b, _ => Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "") };
        all.Write(bytes);
        all.WriteByte(0);
    }
}

internal static class StoreLookup
{
    public static Task<byte[]?> FindAsync(this ICheckpointStore store, string key) => ((IEntityLookup)store).FindEntityAsync("users", key);
}
