using StreamPersonalization.Kafka;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Privacy;
using StreamPersonalization.Node.Tests.Support;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Node.Tests.Privacy;

/// <summary>
/// The cohort releaser over a SQLite store of <see cref="CohortPopulation"/> users, publishing to the embedded Kafka.
/// Noise secrets are fixed, so every run draws the same noise.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class CohortReleaserTests(KafkaFixture kafka, ITestOutputHelper output) : IAsyncLifetime
{
    // ε = 8 per release, ε/4 = 2 per statistic: Laplace b = Δ/2 = 0.5 (users, conversions), 900 (session seconds), 250 (revenue).
    private const double Epsilon = 8, BUsers = 0.5, BSession = CohortPopulation.MaxSessionSeconds / 2, BRevenue = CohortPopulation.MaxRevenue / 2;

    // |Laplace(b)| > 10b has probability e^−10 = 4.5e-5: with 48 draws per release a correct releaser fails a 10b check
    // with probability < 0.3 % (and never with the fixed secrets used here).
    private const double K = 10;

    private static readonly CohortReleaseOptions Options = new()
    {
        EpsilonPerRelease = Epsilon, PeriodBudgetEpsilon = 2 * Epsilon, MinimumCohortSize = 50,
        MaxSessionSeconds = CohortPopulation.MaxSessionSeconds, MaxRevenue = CohortPopulation.MaxRevenue, Bands = CohortPopulation.Bands,
    };

    private static readonly CohortPopulation Population = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-cohorts-").FullName;
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<IDisposable> _producers = [];
    private KafkaOptions _topics = new();
    private string _db = "";

    public async Task InitializeAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        _topics = new KafkaOptions { BootstrapServers = kafka.Bootstrap, CohortMetricsTopic = $"cohort-metrics-{id}", AlertsTopic = $"alerts-{id}" };
        kafka.Cluster.CreateTopic(_topics.CohortMetricsTopic, 3);
        kafka.Cluster.CreateTopic(_topics.AlertsTopic, 3);
        _db = Path.Combine(_dir, "sp.db");
        await Population.WriteAsync(await OpenUsersAsync(), CohortPopulation.Period.EndMs + 7 * 3600_000L);
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _producers) p.Dispose();
        foreach (var d in Enumerable.Reverse(_disposables)) await d.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<ICheckpointStore> OpenUsersAsync()
    {
        var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = _db, BusyTimeout = TimeSpan.FromSeconds(30) });
        await store.InitializeAsync();
        _disposables.Add(store);
        return store;
    }

    private SqliteCohortReleaseStore OpenReleases() => new(new SqliteStoreOptions { Path = _db, BusyTimeout = TimeSpan.FromSeconds(30) });

    /// <summary>A releaser as on its own node: its own store connections, producer and noise secret.</summary>
    private async Task<CohortReleaser> ReleaserAsync(CohortReleaseOptions options, byte secret)
    {
        var producer = new KafkaClientFactory(_topics).CreateProducer($"cohort-test-{secret}");
        _producers.Add(producer);
        return new CohortReleaser(options,
            new StoredUserContributions(await OpenUsersAsync(), CohortPopulation.Catalog, new HalfLifeDecay(CohortPopulation.HalfLife)),
            OpenReleases(), new CohortPublisher(producer, _topics), NullLogger.Instance, noiseSecret: Enumerable.Repeat(secret, 32).ToArray());
    }

    private List<ConsumeResult<byte[], byte[]>> Read(string topic) => TopicReader.ReadAll(kafka.Bootstrap, topic, 3);

    [Fact]
    public async Task Release_PublishesNoisyCohortsWithinTenNoiseScalesOfTheExactValues_AndNeverTheSmallOrExcludedOnes()
    {
        var releaser = await ReleaserAsync(Options, 1);
        var outcome = await releaser.ReleaseAsync(CohortPopulation.Period, CancellationToken.None);
        Assert.Equal(CohortReleaseStatus.Released, outcome.Status);

        var bands = new CohortBands(Options.Bands);
        var records = Read(_topics.CohortMetricsTopic);
        Assert.Equal(outcome.Published, records.Count);
        var byCohort = records.ToDictionary(r => JsonDocument.Parse(r.Message.Value).RootElement.GetProperty("cohort").GetString()!, r => r);
        // A, B, C (≥ 120 users) are released; D (5), E (12), withdrawn F and out-of-period G (100 each) never appear.
        var large = CohortPopulation.Groups.Where(g => g.Name is "A" or "B" or "C").Select(g => bands.Name(g.Key)).ToHashSet();
        Assert.Equal(large.Order(StringComparer.Ordinal), byCohort.Keys.Order(StringComparer.Ordinal));

        var noiseAdded = false;
        foreach (var (name, record) in byCohort)
        {
            var key = bands.All.Single(k => bands.Name(k) == name);
            var exact = Population.Exact[key];
            var json = JsonDocument.Parse(record.Message.Value).RootElement;
            var recordId = $"{CohortPopulation.Period.Id}/{name}";
            Assert.Equal(recordId, Encoding.UTF8.GetString(record.Message.Key));
            Assert.Equal(recordId, Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes(OutputMessages.RecordIdHeader)));
            var users = json.GetProperty("users").GetInt64();
            var avgSession = json.GetProperty("averageSessionSeconds").GetDouble();
            var conversion = json.GetProperty("conversionRate").GetDouble();
            var revenue = json.GetProperty("revenue").GetDouble();
            output.WriteLine($"{name}: users {users} (exact {exact.Users}), avg session {avgSession} ({exact.SessionSeconds / exact.Users:F1}), " +
                $"conversion {conversion} ({(double)exact.Conversions / exact.Users:F4}), revenue {revenue} ({exact.Revenue:F2})");

            Assert.InRange(users, exact.Users - K * BUsers - 0.5, exact.Users + K * BUsers + 0.5);
            Assert.InRange(revenue, exact.Revenue - K * BRevenue - 0.005, exact.Revenue + K * BRevenue + 0.005);
            // Ratios of two noisy sums: within the ratio of the sums' 10-scale extremes, after clamping and rounding.
            InRatio(avgSession, exact.SessionSeconds, BSession, exact.Users, CohortPopulation.MaxSessionSeconds, 0.05);
            InRatio(conversion, exact.Conversions, BUsers, exact.Users, 1, 0.00005);
            InRatio(json.GetProperty("revenuePerUser").GetDouble(), exact.Revenue, BRevenue, exact.Users, CohortPopulation.MaxRevenue, 0.005);
            noiseAdded |= Math.Abs(revenue - Math.Round(exact.Revenue, 2)) > 0.005;
            Assert.Equal("laplace", json.GetProperty("mechanism").GetString());
            Assert.Equal(Epsilon, json.GetProperty("epsilon").GetDouble());
            Assert.Equal([BUsers, BSession, BUsers, BRevenue], json.GetProperty("noise").EnumerateArray().Select(n => n.GetProperty("scale").GetDouble()));
        }
        Assert.True(noiseAdded, "every released revenue equals the exact value: no noise was added");

        // The stored audit: released, 12 cohorts charged ε each in the durable ledger, the rest suppressed, and published.
        var store = OpenReleases();
        var doc = JsonDocument.Parse((await store.GetReleaseAsync(CohortPopulation.Period.Id))!.Document).RootElement;
        Assert.Equal("released", doc.GetProperty("status").GetString());
        Assert.Equal(bands.Count - 3, doc.GetProperty("cohortsSuppressed").GetInt32());
        var ledger = await store.ReadLedgerAsync(CohortPopulation.Period.Id);
        Assert.Equal(bands.Count, ledger.Count);
        Assert.All(ledger, e => Assert.Equal(new PrivacyBudget(Epsilon, 0), e.Charge));
        Assert.Empty(await store.ListUnpublishedAsync());
    }

    private static void InRatio(double released, double sum, double sumScale, double users, double max, double rounding)
    {
        var lo = Math.Clamp((sum - K * sumScale) / (users + K * BUsers), 0, max);
        var hi = Math.Clamp((sum + K * sumScale) / (users - K * BUsers), 0, max);
        Assert.InRange(released, lo - rounding, hi + rounding);
    }

    [Fact]
    public async Task ConcurrentReleasers_ReleaseThePeriodOnce_AndLaterRoundsSkipIt()
    {
        var first = await ReleaserAsync(Options, 1);
        var second = await ReleaserAsync(Options, 2);
        Assert.Equal(CohortPopulation.Period, await second.DuePeriodAsync(CancellationToken.None));   // watermark = end + 7 h, delay 6 h

        var outcomes = await Task.WhenAll(
            Task.Run(() => first.ReleaseAsync(CohortPopulation.Period, CancellationToken.None)),
            Task.Run(() => second.ReleaseAsync(CohortPopulation.Period, CancellationToken.None)));
        Assert.Equal([CohortReleaseStatus.Released, CohortReleaseStatus.AlreadyReleased], outcomes.Select(o => o.Status).Order());
        var winner = outcomes.Single(o => o.Status == CohortReleaseStatus.Released);
        var published = Read(_topics.CohortMetricsTopic).Count;
        Assert.Equal(winner.Published, published);

        var third = await ReleaserAsync(Options, 3);
        var tick = await third.TickAsync(CancellationToken.None);   // the due period is the released one
        Assert.Equal(CohortReleaseStatus.AlreadyReleased, tick!.Status);
        Assert.Equal(published, Read(_topics.CohortMetricsTopic).Count);
        Assert.Equal(new CohortBands(Options.Bands).Count, (await OpenReleases().ReadLedgerAsync(CohortPopulation.Period.Id)).Count);
    }

    [Fact]
    public async Task OverBudget_IsRefusedStoredAndAlerted_AfterARestart_AndServedByTheApi()
    {
        // Two daily periods share one budget of ε = 2; each release costs 1.5, so the second period's release cannot be paid.
        var options = Options with { EpsilonPerRelease = 1.5, PeriodBudgetEpsilon = 2, BudgetPeriods = 2 };
        var previous = CohortPopulation.Period.Previous;
        Assert.Equal(previous.BudgetWindow(2), CohortPopulation.Period.BudgetWindow(2));
        Assert.Equal(CohortReleaseStatus.Released, (await (await ReleaserAsync(options, 1)).ReleaseAsync(previous, CancellationToken.None)).Status);
        var metricsBefore = Read(_topics.CohortMetricsTopic).Count;

        // A new releaser (as after a restart) knows the spend only from the store's ledger.
        var restarted = await ReleaserAsync(options, 2);
        var refused = await restarted.ReleaseAsync(CohortPopulation.Period, CancellationToken.None);
        Assert.Equal(CohortReleaseStatus.Refused, refused.Status);
        Assert.False(refused.Release.Released);
        Assert.Equal(metricsBefore, Read(_topics.CohortMetricsTopic).Count);

        var alert = Assert.Single(Read(_topics.AlertsTopic));
        var json = JsonDocument.Parse(alert.Message.Value).RootElement;
        Assert.Equal("privacy_budget", json.GetProperty("detector").GetString());
        Assert.Equal("critical", json.GetProperty("severity").GetString());
        Assert.Equal(CohortPopulation.Period.Id, json.GetProperty("subject").GetString());
        Assert.Equal(1.5, json.GetProperty("evidence").GetProperty("epsilon_spent").GetDouble());
        Assert.Equal($"privacy/privacy_budget/{CohortPopulation.Period.Id}", Encoding.UTF8.GetString(alert.Message.Key));

        var store = OpenReleases();
        var window = CohortPopulation.Period.BudgetWindow(2).Id;
        Assert.All(await store.ReadLedgerAsync(window), e => Assert.Equal(previous.Id, e.Period));
        Assert.Equal(CohortReleaseStatus.AlreadyReleased, (await restarted.ReleaseAsync(CohortPopulation.Period, CancellationToken.None)).Status);
        Assert.Single(Read(_topics.AlertsTopic));

        // GET /v1/cohorts serves both, newest period first; ?period= selects one.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        CohortEndpoints.Map(app, store);
        await app.StartAsync();
        _disposables.Add(app);
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        var all = JsonDocument.Parse(await http.GetStringAsync("/v1/cohorts")).RootElement.GetProperty("releases");
        Assert.Equal([$"{CohortPopulation.Period.Id} refused", $"{previous.Id} released"],
            all.EnumerateArray().Select(r => $"{r.GetProperty("period").GetString()} {r.GetProperty("status").GetString()}"));
        Assert.Equal(1.5, all[1].GetProperty("epsilonCharged").GetDouble());
        var one = JsonDocument.Parse(await http.GetStringAsync($"/v1/cohorts?period={Uri.EscapeDataString(previous.Id)}")).RootElement.GetProperty("releases");
        Assert.Equal(metricsBefore, Assert.Single(one.EnumerateArray()).GetProperty("cohorts").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/cohorts?period=2020-01-01/P1D")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/v1/cohorts?period=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/v1/cohorts?limit=0")).StatusCode);
        Assert.Single(JsonDocument.Parse(await http.GetStringAsync("/v1/cohorts?limit=1")).RootElement.GetProperty("releases").EnumerateArray());
    }

    [Fact]
    public async Task CommittedButUnpublishedRelease_IsPublishedByTheNextRound_Once()
    {
        // As if a releaser crashed between its commit and its publication: the row is stored, nothing is on Kafka yet.
        var agg = new CohortAggregator(Options);
        var period = CohortPopulation.Period.Previous.Previous;
        var totals = agg.Aggregate(Enumerable.Range(0, 300).Select(i => new UserContribution($"u{i}", new CohortKey(1, 0, 1), 600, i % 3 == 0, 40)));
        var result = agg.Release(totals, period.Id, 99, new PrivacyAccountant(Options.PeriodBudget));
        var store = OpenReleases();
        Assert.Equal(ReleaseCommitResult.Committed, await store.TryCommitReleaseAsync(
            new StoredCohortRelease(period.Id, period.StartMs, period.EndMs, period.Id, true, CohortReleaseJson.Document(period, result, Options, PrivacyBudget.Zero), 1, null),
            agg.CohortNames.Select(c => new PrivacyLedgerEntry(period.Id, period.Id, c, Options.ChargePerRelease)).ToList(), 0));

        var releaser = await ReleaserAsync(Options, 4);
        Assert.Equal(1, await releaser.PublishPendingAsync(CancellationToken.None));
        Assert.Equal(0, await releaser.PublishPendingAsync(CancellationToken.None));
        var record = Assert.Single(Read(_topics.CohortMetricsTopic));
        Assert.Equal(result.Cohorts.Single().Users, JsonDocument.Parse(record.Message.Value).RootElement.GetProperty("users").GetInt64());
        Assert.NotNull((await store.GetReleaseAsync(period.Id))!.PublishedAtMs);
    }
}
