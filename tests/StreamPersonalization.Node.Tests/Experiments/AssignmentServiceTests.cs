using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node.Experiments;

namespace StreamPersonalization.Node.Tests.Experiments;

/// <summary>The assignment service over a real SQLite store; several test beds on one file stand for several nodes.</summary>
public sealed class AssignmentServiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-assign-").FullName;

    private string Db => Path.Combine(_dir, "shared.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PublishedSnapshot Allocation(string experiment, long version, params (string Variant, double Share)[] shares) =>
        new(experiment, version, "{}"u8.ToArray(), shares.ToDictionary(s => s.Variant, s => s.Share));

    [Fact]
    public async Task AssignAsync_FixedSplitAnswersTheHashSplitThenTheStoredVariant()
    {
        await using var node = await AssignmentTestBed.OpenAsync(Db);
        var split = AssignmentTestBed.FileCatalog["split"];
        var users = Enumerable.Range(0, 300).Select(i => $"user-{i}").ToList();
        var first = await node.Service.AssignAsync("split", users, CancellationToken.None);
        Assert.All(first!.Zip(users), p =>
        {
            Assert.Equal(SplitAssigner.Assign(split, p.Second), p.First.Variant);
            Assert.Equal("assigned", p.First.Reason);
            Assert.False(p.First.Sticky);
        });
        var stored = await new Storage.Sqlite.SqliteAssignmentStore(new() { Path = Db }).GetAsync("split", users);
        Assert.Equal(users.Count, stored.Count);
        var again = await node.Service.AssignAsync("split", users, CancellationToken.None);
        Assert.All(again!.Zip(first!), p => { Assert.True(p.First.Sticky); Assert.Equal(p.Second.Variant, p.First.Variant); });
        Assert.InRange(first!.Count(a => a.Variant == "treatment"), 150 - 4 * 8.7, 150 + 4 * 8.7);   // Binomial(300, ½): 4σ
    }

    [Fact]
    public async Task AssignAsync_TwoNodesAndARestartAgreeEvenWhenTheirBanditAllocationsDiffer()
    {
        var users = Enumerable.Range(0, 200).Select(i => $"racer-{i}").ToList();
        Dictionary<string, string> answered;
        await using (var a = await AssignmentTestBed.OpenAsync(Db))
        await using (var b = await AssignmentTestBed.OpenAsync(Db))
        {
            // Node A believes arm a is best, node B believes c is: only the store can make them agree.
            a.Board.Offer(Allocation("bandit", 5, ("a", 1.0), ("b", 0.0), ("c", 0.0)));
            b.Board.Offer(Allocation("bandit", 5, ("a", 0.0), ("b", 0.0), ("c", 1.0)));
            var answers = await Task.WhenAll(
                a.Service.AssignAsync("bandit", users, CancellationToken.None),
                b.Service.AssignAsync("bandit", users.AsEnumerable().Reverse().ToList(), CancellationToken.None));
            var fromA = answers[0]!.ToDictionary(x => x.UserKey, x => x.Variant);
            var fromB = answers[1]!.ToDictionary(x => x.UserKey, x => x.Variant);
            Assert.All(users, u => Assert.Equal(fromA[u], fromB[u]));
            Assert.All(fromA.Values, v => Assert.Contains(v, new[] { "a", "c" }));
            answered = fromA;
            var later = await b.AssignAsync("bandit", "late-user");
            Assert.Equal("c", later.Variant);
            Assert.Equal("c", (await a.AssignAsync("bandit", "late-user")).Variant);
        }
        // A restarted node (fresh cache, board without snapshots) still answers the stored variants.
        await using var restarted = await AssignmentTestBed.OpenAsync(Db);
        var after = await restarted.Service.AssignAsync("bandit", users, CancellationToken.None);
        Assert.All(after!, x => { Assert.True(x.Sticky); Assert.Equal(answered[x.UserKey], x.Variant); });
    }

    [Fact]
    public async Task AssignAsync_BanditDrawsFollowTheLatestAllocation()
    {
        await using var node = await AssignmentTestBed.OpenAsync(Db);
        var before = await node.Service.AssignAsync("bandit", Enumerable.Range(0, 3000).Select(i => $"early-{i}").ToList(), CancellationToken.None);
        node.Board.Offer(Allocation("bandit", 7, ("a", 0.1), ("b", 0.2), ("c", 0.7)));
        Assert.False(node.Board.Offer(Allocation("bandit", 6, ("a", 1.0), ("b", 0.0), ("c", 0.0))));   // an older version never wins
        var after = await node.Service.AssignAsync("bandit", Enumerable.Range(0, 5000).Select(i => $"late-{i}").ToList(), CancellationToken.None);
        // Before any snapshot the definition's equal weights apply; after it the allocation does (each share within 4σ).
        foreach (var v in new[] { "a", "b", "c" }) AssertShare(before!, v, 1.0 / 3);
        AssertShare(after!, "a", 0.1);
        AssertShare(after!, "b", 0.2);
        AssertShare(after!, "c", 0.7);

        static void AssertShare(IReadOnlyList<AssignmentAnswer> answers, string variant, double p)
        {
            var n = answers.Count;
            var sd = Math.Sqrt(n * p * (1 - p));
            Assert.InRange(answers.Count(a => a.Variant == variant), n * p - 4 * sd, n * p + 4 * sd);
        }
    }

    [Fact]
    public async Task AssignAsync_TargetingFallsBackWithTheReasonAndStoresNothing()
    {
        await using var node = await AssignmentTestBed.OpenAsync(Db);
        var unknown = await node.AssignAsync("desktop-only", "newcomer");
        Assert.Equal(("control", "incomplete_data", false), (unknown.Variant, unknown.Reason, unknown.Sticky));
        await node.StoreUserAsync("phone-user", "mobile", partition: 2);
        Assert.Equal("not_targeted", (await node.AssignAsync("desktop-only", "phone-user")).Reason);
        // Once the user's data arrives the same user is assigned: the fallback was not stored.
        await node.StoreUserAsync("newcomer", "desktop", partition: 4);
        var assigned = await node.AssignAsync("desktop-only", "newcomer");
        Assert.Equal("assigned", assigned.Reason);
        Assert.Equal(SplitAssigner.Assign(AssignmentTestBed.FileCatalog["desktop-only"], "newcomer"), assigned.Variant);
        Assert.Empty(await new Storage.Sqlite.SqliteAssignmentStore(new() { Path = Db }).GetAsync("desktop-only", ["phone-user"]));
    }

    [Fact]
    public async Task AssignAsync_PausedKeepsAssignedUsersStoppedServesTheFallback()
    {
        await using var node = await AssignmentTestBed.OpenAsync(Db);
        var users = Enumerable.Range(0, 40).Select(i => $"p-{i}").ToList();
        var running = (await node.Service.AssignAsync("split", users, CancellationToken.None))!.ToDictionary(a => a.UserKey, a => a.Variant);
        var split = AssignmentTestBed.FileCatalog["split"];
        node.Catalog.Apply([Stored(split with { Status = ExperimentStatus.Paused, Version = 2 })]);
        Assert.All(await node.Service.AssignAsync("split", users, CancellationToken.None) ?? [], a => Assert.Equal((running[a.UserKey], "assigned"), (a.Variant, a.Reason)));
        var newcomer = await node.AssignAsync("split", "after-pause");
        Assert.Equal(("control", "experiment_not_running"), (newcomer.Variant, newcomer.Reason));
        node.Catalog.Apply([Stored(split with { Status = ExperimentStatus.Stopped, Version = 3 })]);
        Assert.All(await node.Service.AssignAsync("split", users, CancellationToken.None) ?? [], a => Assert.Equal(("control", "experiment_not_running", false), (a.Variant, a.Reason, a.Sticky)));
        Assert.Null(await node.Service.AssignAsync("no-such-experiment", ["x"], CancellationToken.None));
    }

    [Fact]
    public async Task AssignAsync_WithdrawnConsentAndDisabledMarketFallBackEvenForStickyUsers()
    {
        await using var node = await AssignmentTestBed.OpenAsync(Db);
        var before = await node.AssignAsync("split", "leaver");
        Assert.Equal("assigned", before.Reason);
        await node.StoreUserAsync("leaver", "desktop", partition: 1, consentWithdrawn: true);
        Assert.Equal(("control", "no_consent", false), Tuple(await node.AssignAsync("split", "leaver")));
        await node.StoreUserAsync("parisian", "desktop", partition: 2, country: AssignmentTestBed.DisabledMarket);
        Assert.Equal(("control", "personalization_off", false), Tuple(await node.AssignAsync("split", "parisian")));
        // Nothing was stored for the fallbacks; the earlier sticky row is still there for a later grant.
        Assert.Empty(await new Storage.Sqlite.SqliteAssignmentStore(new() { Path = Db }).GetAsync("split", ["parisian"]));

        static (string, string, bool) Tuple(AssignmentAnswer a) => (a.Variant, a.Reason, a.Sticky);
    }

    private static StoredDefinition Stored(ExperimentDefinition d) => new(d.Id, d.Version, ExperimentDefinitionJson.ToJson(d), 0);
}
