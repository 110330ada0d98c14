using Npgsql;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="ICohortReleaseStore"/> must have (one release per period, durable append-only ledger,
/// refusals persisted, concurrency), run against SQLite and PostgreSQL on fresh storage per test.
/// </summary>
public abstract class CohortReleaseStoreContract : IAsyncLifetime
{
    private static readonly string[] Cohorts = ["c1", "c2", "c3"];
    private readonly List<object> _opened = [];

    protected string Location { get; private set; } = "";

    protected abstract Task<string> CreateStorageAsync();

    protected abstract Task DeleteStorageAsync();

    protected abstract ICheckpointStore OpenCheckpointStore(string location);

    protected abstract ICohortReleaseStore OpenReleaseStore(string location);

    /// <summary>A fresh store instance (as on another node or after a restart).</summary>
    protected ICohortReleaseStore Open()
    {
        var s = OpenReleaseStore(Location);
        _opened.Add(s);
        return s;
    }

    public async Task InitializeAsync()
    {
        Location = await CreateStorageAsync();
        var checkpoints = OpenCheckpointStore(Location);
        _opened.Add(checkpoints);
        await checkpoints.InitializeAsync();   // creates the release and ledger tables with the rest of the schema
    }

    public async Task DisposeAsync()
    {
        foreach (var o in _opened) if (o is IAsyncDisposable d) await d.DisposeAsync();
        await DeleteStorageAsync();
    }

    private static StoredCohortRelease Release(string period, string budget, bool released = true, string doc = "{\"n\":1}", long start = 0) =>
        new(period, start, start + 86_400_000, budget, released, doc, 1000, null);

    private static List<PrivacyLedgerEntry> Charges(string period, string budget, double eps, double delta = 0) =>
        Cohorts.Select(c => new PrivacyLedgerEntry(budget, period, c, new PrivacyBudget(eps, delta))).ToList();

    [Fact]
    public async Task Commit_StoresTheReleaseAndItsLedgerEntries_ExactlyAndDurably()
    {
        // Doubles that do not survive a decimal round trip at 15 digits must come back bit for bit.
        var eps = 0.1 + 0.2;
        var delta = 1e-6 / 3;
        Assert.Equal(ReleaseCommitResult.Committed, await Open().TryCommitReleaseAsync(Release("p1", "w"), Charges("p1", "w", eps, delta), 0));
        var reopened = Open();
        var ledger = await reopened.ReadLedgerAsync("w");
        Assert.Equal(Cohorts, ledger.Select(e => e.Cohort));
        Assert.All(ledger, e => Assert.Equal(new PrivacyBudget(eps, delta), e.Charge));
        Assert.All(ledger, e => Assert.Equal("p1", e.Period));
        Assert.Empty(await reopened.ReadLedgerAsync("other"));
        var stored = await reopened.GetReleaseAsync("p1");
        Assert.Equal(Release("p1", "w"), stored);
        Assert.Null(await reopened.GetReleaseAsync("p2"));
    }

    [Fact]
    public async Task SecondCommitOfAPeriod_IsAlreadyReleased_AndWritesNothing()
    {
        Assert.Equal(ReleaseCommitResult.Committed, await Open().TryCommitReleaseAsync(Release("p1", "w", doc: "{\"first\":1}"), Charges("p1", "w", 1), 0));
        Assert.Equal(ReleaseCommitResult.AlreadyReleased, await Open().TryCommitReleaseAsync(Release("p1", "w", doc: "{\"second\":2}"), Charges("p1", "w", 1), 3));
        Assert.Equal("{\"first\":1}", (await Open().GetReleaseAsync("p1"))!.Document);
        Assert.Equal(3, (await Open().ReadLedgerAsync("w")).Count);
    }

    [Fact]
    public async Task StaleLedgerCount_IsLedgerChanged_AndWritesNothing()
    {
        var store = Open();
        Assert.Equal(ReleaseCommitResult.Committed, await store.TryCommitReleaseAsync(Release("p1", "w"), Charges("p1", "w", 1), 0));
        Assert.Equal(ReleaseCommitResult.LedgerChanged, await store.TryCommitReleaseAsync(Release("p2", "w"), Charges("p2", "w", 1), 0));
        Assert.Null(await store.GetReleaseAsync("p2"));
        Assert.Equal(3, (await store.ReadLedgerAsync("w")).Count);
        Assert.Equal(ReleaseCommitResult.Committed, await store.TryCommitReleaseAsync(Release("p2", "w"), Charges("p2", "w", 1), 3));
        Assert.Equal(6, (await store.ReadLedgerAsync("w")).Count);
    }

    [Fact]
    public async Task Refusal_IsPersistedWithoutSpending_AndBlocksThePeriod()
    {
        var store = Open();
        Assert.Equal(ReleaseCommitResult.Committed, await store.TryCommitReleaseAsync(Release("p1", "w", released: false, doc: "{\"status\":\"refused\"}"), [], 0));
        var reopened = Open();
        var stored = await reopened.GetReleaseAsync("p1");
        Assert.False(stored!.Released);
        Assert.Equal("{\"status\":\"refused\"}", stored.Document);
        Assert.Empty(await reopened.ReadLedgerAsync("w"));
        Assert.Equal(ReleaseCommitResult.AlreadyReleased, await reopened.TryCommitReleaseAsync(Release("p1", "w"), Charges("p1", "w", 1), 0));
        Assert.Empty(await reopened.ReadLedgerAsync("w"));
        await Assert.ThrowsAsync<ArgumentException>(() => reopened.TryCommitReleaseAsync(Release("p2", "w", released: false), Charges("p2", "w", 1), 0));
        await Assert.ThrowsAsync<ArgumentException>(() => reopened.TryCommitReleaseAsync(Release("p3", "w"), Charges("p9", "w", 1), 0));
        Assert.Null(await reopened.GetReleaseAsync("p3"));
    }

    [Fact]
    public async Task ConcurrentReleasersOfOnePeriod_ExactlyOneCommits()
    {
        // Eight releasers on their own connections race to release one period, each with its own document.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            Open().TryCommitReleaseAsync(Release("p1", "w", doc: $"{{\"releaser\":{i}}}"), Charges("p1", "w", 1), 0))));
        Assert.Single(results, r => r == ReleaseCommitResult.Committed);
        Assert.Equal(7, results.Count(r => r == ReleaseCommitResult.AlreadyReleased));
        var winner = Array.IndexOf(results, ReleaseCommitResult.Committed);
        Assert.Equal($"{{\"releaser\":{winner}}}", (await Open().GetReleaseAsync("p1"))!.Document);
        Assert.Equal(3, (await Open().ReadLedgerAsync("w")).Count);
    }

    [Fact]
    public async Task ConcurrentReleasersOfOneBudgetWindow_NeverOverspend()
    {
        // Six periods of one budget window (ε budget 2, each release ε 1) released concurrently by six releasers that each
        // read the ledger, decide with the accountant and commit, retrying when the ledger changed. Without serialization
        // on the budget two of them could both pass on the same count; with it, exactly two are released.
        var budget = new PrivacyBudget(2, 0);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var store = Open();
            var period = $"p{i}";
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var ledger = await store.ReadLedgerAsync("w");
                var charge = PrivacyAccountant.FromLedger(budget, ledger).TryCharge("w", Cohorts, new PrivacyBudget(1, 0));
                var r = await store.TryCommitReleaseAsync(Release(period, "w", charge.Approved),
                    charge.Approved ? PrivacyLedgerEntry.For(charge, period, Cohorts) : [], ledger.Count);
                if (r != ReleaseCommitResult.LedgerChanged) return (r, charge.Approved);
            }
            throw new TimeoutException("ledger kept changing");
        })));
        Assert.All(outcomes, o => Assert.Equal(ReleaseCommitResult.Committed, o.r));
        Assert.Equal(2, outcomes.Count(o => o.Approved));
        var ledger = await Open().ReadLedgerAsync("w");
        Assert.All(Cohorts, c => Assert.Equal(2.0, ledger.Where(e => e.Cohort == c).Sum(e => e.Charge.Epsilon)));
        var stored = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Open().GetReleaseAsync($"p{i}")));
        Assert.Equal(2, stored.Count(s => s!.Released));
    }

    [Fact]
    public async Task ListAndPublish_NewestFirst_UnpublishedOldestFirst_FirstPublicationKept()
    {
        var store = Open();
        foreach (var (period, start) in new[] { ("d2", 2 * 86_400_000L), ("d1", 86_400_000L), ("d3", 3 * 86_400_000L) })
            Assert.Equal(ReleaseCommitResult.Committed, await store.TryCommitReleaseAsync(Release(period, period, start: start), [], 0));
        Assert.Equal(["d3", "d2", "d1"], (await store.ListReleasesAsync(10)).Select(r => r.Period));
        Assert.Equal(["d3", "d2"], (await store.ListReleasesAsync(2)).Select(r => r.Period));
        Assert.Equal(["d1", "d2", "d3"], (await store.ListUnpublishedAsync()).Select(r => r.Period));
        await store.MarkPublishedAsync("d2", 5000);
        await Open().MarkPublishedAsync("d2", 9000);
        Assert.Equal(5000, (await store.GetReleaseAsync("d2"))!.PublishedAtMs);
        Assert.Equal(["d1", "d3"], (await Open().ListUnpublishedAsync()).Select(r => r.Period));
    }
}

public sealed class SqliteCohortReleaseStoreTests : CohortReleaseStoreContract
{
    private string _directory = "";

    protected override Task<string> CreateStorageAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "sp-cohort-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        return Task.FromResult(Path.Combine(_directory, "sp.db"));
    }

    protected override Task DeleteStorageAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    protected override ICheckpointStore OpenCheckpointStore(string location) => new SqliteCheckpointStore(new SqliteStoreOptions { Path = location });

    protected override ICohortReleaseStore OpenReleaseStore(string location) =>
        new SqliteCohortReleaseStore(new SqliteStoreOptions { Path = location, BusyTimeout = TimeSpan.FromSeconds(30) });
}

public sealed class PostgresCohortReleaseStoreTests : CohortReleaseStoreContract
{
    private string _schema = "";

    protected override async Task<string> CreateStorageAsync()
    {
        _schema = $"sp_cohort_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE SCHEMA {_schema}");
        return new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString) { SearchPath = _schema }.ConnectionString;
    }

    protected override Task DeleteStorageAsync() => ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");

    protected override ICheckpointStore OpenCheckpointStore(string location) => new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = location });

    protected override ICohortReleaseStore OpenReleaseStore(string location) => new PostgresCohortReleaseStore(new PostgresStoreOptions { ConnectionString = location });

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
