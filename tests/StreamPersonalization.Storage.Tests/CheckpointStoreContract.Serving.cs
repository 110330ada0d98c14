using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Assignment;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Storage.Tests;

/// <summary>The serving side of a store (sticky assignments, admin definitions, lookup by key), same contract for every provider.</summary>
public abstract partial class CheckpointStoreContract
{
    /// <summary>An assignment store on the storage at <paramref name="location"/> (schema made by the checkpoint store).</summary>
    protected abstract IAssignmentStore OpenAssignmentStore(string location);

    /// <summary>A definition store on the storage at <paramref name="location"/>.</summary>
    protected abstract IExperimentDefinitionStore OpenDefinitionStore(string location);

    [Fact]
    public async Task AddIfAbsent_FirstWriterWinsAndLaterCandidatesGetTheWinner()
    {
        var a = OpenAssignmentStore(Location);
        var first = await a.AddIfAbsentAsync([new("exp", "u1", "treatment", 1, 100), new("exp", "u2", "control", 1, 100)]);
        Assert.Equal(["treatment", "control"], first.Select(s => s.Variant));
        var second = await OpenAssignmentStore(Location).AddIfAbsentAsync([new("exp", "u1", "control", 2, 200), new("other", "u1", "b", 1, 200)]);
        Assert.Equal(new StoredAssignment("exp", "u1", "treatment", 1, 100), second.Single(s => s.ExperimentId == "exp"));
        Assert.Equal("b", second.Single(s => s.ExperimentId == "other").Variant);
        var read = await a.GetAsync("exp", ["u1", "u2", "u3"]);
        Assert.Equal(["u1:treatment", "u2:control"], read.Select(s => $"{s.UserKey}:{s.Variant}").Order());
    }

    [Fact]
    public async Task AddIfAbsent_ConcurrentWritersAllSeeOneVariantPerUser()
    {
        // Eight writers race to assign the same 200 users, each proposing its own variant: exactly one proposal per user
        // must win and every writer must be told that winner.
        var users = Enumerable.Range(0, 200).Select(i => $"user-{i}").ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() =>
            OpenAssignmentStore(Location).AddIfAbsentAsync(users.Select(u => new StoredAssignment("race", u, $"v{w}", 1, w)).ToList()))));
        var stored = (await OpenAssignmentStore(Location).GetAsync("race", users)).ToDictionary(s => s.UserKey);
        Assert.Equal(users.Length, stored.Count);
        foreach (var r in results)
            foreach (var s in r) Assert.Equal(stored[s.UserKey], s);
    }

    [Fact]
    public async Task DeleteUser_RemovesEveryExperimentOfThatUserOnly()
    {
        var a = OpenAssignmentStore(Location);
        await a.AddIfAbsentAsync([new("e1", "gone", "x", 1, 1), new("e2", "gone", "y", 1, 1), new("e1", "kept", "x", 1, 1)]);
        Assert.Equal(2, await a.DeleteUserAsync("gone"));
        Assert.Empty(await a.GetAsync("e1", ["gone"]));
        Assert.Single(await a.GetAsync("e1", ["kept"]));
    }

    [Fact]
    public async Task PutDefinition_AcceptsOnlyIncreasingVersions()
    {
        var d = OpenDefinitionStore(Location);
        Assert.True(await d.PutDefinitionAsync(new("exp", 2, "{v2}", 10)));
        Assert.False(await d.PutDefinitionAsync(new("exp", 2, "{other v2}", 11)));
        Assert.False(await d.PutDefinitionAsync(new("exp", 1, "{v1}", 12)));
        Assert.True(await d.PutDefinitionAsync(new("exp", 3, "{v3}", 13)));
        Assert.True(await d.PutDefinitionAsync(new("a-first", 1, "{a}", 14)));
        Assert.Equal(["a-first v1 {a}", "exp v3 {v3}"], (await OpenDefinitionStore(Location).ListDefinitionsAsync()).Select(s => $"{s.ExperimentId} v{s.Version} {s.Document}"));
    }

    [Fact]
    public async Task FindEntity_FindsAKeyWithoutItsPartition()
    {
        await Store.CommitAsync(new CheckpointBatch("users", 3, null, 10, 0, null, [new EntityWrite("alice", [1, 2, 3], null)]));
        await Store.CommitAsync(new CheckpointBatch("users", 5, null, 10, 0, null, [new EntityWrite("bob", [4], null)]));
        var lookup = Assert.IsAssignableFrom<IEntityLookup>(Store);
        Assert.Equal([1, 2, 3], await lookup.FindEntityAsync("users", "alice"));
        Assert.Equal([4], await lookup.FindEntityAsync("users", "bob"));
        Assert.Null(await lookup.FindEntityAsync("users", "carol"));
        Assert.Null(await lookup.FindEntityAsync("experiments", "alice"));
    }

    [Fact]
    public async Task Commit_WithErasures_DeletesAssignmentsAndAuditsWithoutTheKey()
    {
        var a = OpenAssignmentStore(Location);
        await a.AddIfAbsentAsync([new("e1", "gone-user", "x", 1, 1), new("e2", "gone-user", "y", 1, 1), new("e1", "kept-user", "x", 1, 1)]);
        await Store.CommitAsync(new CheckpointBatch("users", 1, null, 5, 0, null, [new EntityWrite("gone-user", null, null)], Erasures: ["gone-user"]));
        Assert.Empty(await a.GetAsync("e1", ["gone-user"]));
        Assert.Empty(await a.GetAsync("e2", ["gone-user"]));
        Assert.Single(await a.GetAsync("e1", ["kept-user"]));
        var audit = await ReadAuditAsync(Location);
        var row = Assert.Single(audit);
        Assert.Equal((ErasureAudit.Action, ErasureAudit.Subject("gone-user")), row);
        Assert.DoesNotContain("gone-user", row.Subject);
    }

    [Fact]
    public async Task Commit_WithWithdrawals_DeletesTheirAssignmentsWithoutAnAuditRow()
    {
        var a = OpenAssignmentStore(Location);
        await a.AddIfAbsentAsync([new("e1", "withdrawn-user", "x", 1, 1), new("e2", "withdrawn-user", "y", 1, 1), new("e1", "kept-user", "x", 1, 1)]);
        await Store.CommitAsync(new CheckpointBatch("users", 1, null, 5, 0, null, [new EntityWrite("withdrawn-user", [1], null)], Withdrawals: ["withdrawn-user"]));
        Assert.Empty(await a.GetAsync("e1", ["withdrawn-user"]));
        Assert.Empty(await a.GetAsync("e2", ["withdrawn-user"]));
        Assert.Single(await a.GetAsync("e1", ["kept-user"]));
        Assert.Empty(await ReadAuditAsync(Location));
        Assert.NotNull(await Store.LoadEntityAsync("users", 1, "withdrawn-user"));   // the flag row stays
    }

    /// <summary>(action, subject) rows of <c>sp_audit</c>.</summary>
    protected abstract Task<List<(string Action, string Subject)>> ReadAuditAsync(string location);
}
