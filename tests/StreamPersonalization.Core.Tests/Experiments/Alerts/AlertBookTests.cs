using StreamPersonalization.Core.Experiments.Alerts;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

public class AlertBookTests
{
    private static AlertFinding Finding(string subject, AlertSeverity severity, double value = 1) =>
        new(AlertDetectors.MetricAnomaly, subject, severity, $"{subject} is off", [new("rate", value), new("limit", 4.5)]);

    [Fact]
    public void Evaluate_SameFindingRepeated_RaisedOnce()
    {
        var book = new AlertBook("exp-1");
        var first = book.Evaluate([Finding("treatment", AlertSeverity.Warning)], 1, 60_000, 3);
        var raised = Assert.Single(first);
        Assert.Equal(AlertState.Raised, raised.State);
        Assert.Equal("exp-1/metric_anomaly/treatment", raised.Key);
        Assert.Equal("exp-1/metric_anomaly/treatment#1/raised/warning", raised.Id);
        Assert.Equal(1, raised.Version);
        Assert.Equal(60_000, raised.EventTimeMs);
        for (var v = 2; v < 10; v++) Assert.Empty(book.Evaluate([Finding("treatment", AlertSeverity.Warning, v)], v, null, 3));
        var current = Assert.Single(book.Raised);
        Assert.Equal(1, current.Version);
        Assert.Equal(9, current.Evidence[0].Value);
    }

    [Fact]
    public void Evaluate_HigherSeverity_EscalatesButLowerIsNotAnnounced()
    {
        var book = new AlertBook("exp-1");
        book.Evaluate([Finding("a", AlertSeverity.Info)], 1, null, 3);
        var escalated = Assert.Single(book.Evaluate([Finding("a", AlertSeverity.Critical)], 2, null, 3));
        Assert.Equal(AlertSeverity.Critical, escalated.Severity);
        Assert.Equal(AlertState.Raised, escalated.State);
        Assert.Equal(1, escalated.Episode);
        Assert.EndsWith("#1/raised/critical", escalated.Id);
        Assert.Empty(book.Evaluate([Finding("a", AlertSeverity.Warning)], 3, null, 3));
        Assert.Equal(AlertSeverity.Critical, Assert.Single(book.Raised).Severity);
    }

    [Fact]
    public void Evaluate_QuietForConfiguredEvaluations_ResolvesAndNextRaiseIsNewEpisode()
    {
        var book = new AlertBook("exp-1");
        book.Evaluate([Finding("a", AlertSeverity.Warning)], 1, null, 3);
        Assert.Empty(book.Evaluate([], 2, null, 3));
        Assert.Empty(book.Evaluate([], 3, null, 3));
        var resolved = Assert.Single(book.Evaluate([], 4, 5, 3));
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Equal(4, resolved.Version);
        Assert.Equal(5, resolved.EventTimeMs);
        Assert.Empty(book.Raised);
        var again = Assert.Single(book.Evaluate([Finding("a", AlertSeverity.Warning)], 5, null, 3));
        Assert.Equal(2, again.Episode);
        Assert.NotEqual(resolved.Id, again.Id);
    }

    [Fact]
    public void Evaluate_FindingFlappingFasterThanHysteresis_StaysRaisedWithoutRepeats()
    {
        var book = new AlertBook("exp-1");
        var changes = new List<Alert>();
        for (var v = 0; v < 40; v++) changes.AddRange(book.Evaluate(v % 3 == 0 ? [Finding("a", AlertSeverity.Warning)] : [], v, null, 3));
        Assert.Single(changes);
    }

    [Fact]
    public void Evaluate_ZeroQuietEvaluations_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlertBook("x").Evaluate([], 1, null, 0));

    /// <summary>
    /// Against a closed-form reference: a key is raised at evaluation t iff it had a finding at some s ≤ t with t − s &lt; K;
    /// its severity is the highest found since its episode began. Random histories over three keys, with the book
    /// serialized and restored at random evaluations.
    /// </summary>
    [Fact]
    public void Evaluate_RandomHistories_MatchClosedFormReference()
    {
        string[] subjects = ["a", "b", "c"];
        for (var seed = 0; seed < 100; seed++)
        {
            var rng = new Random(seed);
            var k = rng.Next(1, 5);
            const int steps = 60;
            var history = new AlertSeverity?[subjects.Length, steps];
            for (var i = 0; i < subjects.Length; i++)
                for (var t = 0; t < steps; t++)
                    history[i, t] = rng.NextDouble() < 0.3 ? (AlertSeverity)rng.Next(1, 4) : null;

            var book = new AlertBook("s");
            for (var t = 0; t < steps; t++)
            {
                if (rng.NextDouble() < 0.2) book = AlertBook.FromBytes(book.ToBytes());
                var findings = Enumerable.Range(0, subjects.Length).Where(i => history[i, t] is not null)
                    .Select(i => Finding(subjects[i], history[i, t]!.Value)).ToList();
                var actual = book.Evaluate(findings, t, null, k).Select(a => (a.Subject, a.State, a.Severity, a.Episode)).OrderBy(x => x.Subject).ToList();
                var expected = new List<(string, AlertState, AlertSeverity, int)>();
                for (var i = 0; i < subjects.Length; i++)
                {
                    var (now, sevNow, episode) = Reference(history, i, t, k);
                    var (before, sevBefore, _) = t == 0 ? (false, default, 0) : Reference(history, i, t - 1, k);
                    if (now && (!before || sevNow > sevBefore)) expected.Add((subjects[i], AlertState.Raised, sevNow, episode));
                    if (!now && before) expected.Add((subjects[i], AlertState.Resolved, sevBefore, episode));
                }
                Assert.True(expected.SequenceEqual(actual), $"seed {seed}, t {t}: expected [{string.Join("; ", expected)}] got [{string.Join("; ", actual)}]");
            }
        }
    }

    /// <summary>(raised at t, severity of the current episode, episode number) from the history alone.</summary>
    private static (bool Active, AlertSeverity Severity, int Episode) Reference(AlertSeverity?[,] h, int key, int t, int k)
    {
        bool Active(int u) => u >= 0 && Enumerable.Range(Math.Max(0, u - k + 1), u - Math.Max(0, u - k + 1) + 1).Any(s => h[key, s] is not null);
        var episodes = Enumerable.Range(0, t + 1).Count(u => Active(u) && !Active(u - 1));
        if (!Active(t)) return (false, default, episodes);
        var start = t;
        while (Active(start - 1)) start--;
        var severity = Enumerable.Range(start, t - start + 1).Where(u => h[key, u] is not null).Max(u => h[key, u]!.Value);
        return (true, severity, episodes);
    }

    [Fact]
    public void ToBytes_RoundTrip_KeepsQuietCountAndEpisodes()
    {
        var book = new AlertBook("exp-1");
        book.Evaluate([Finding("a", AlertSeverity.Warning), Finding("b", AlertSeverity.Critical)], 1, 123, 3);
        book.Evaluate([Finding("b", AlertSeverity.Critical)], 2, null, 3);
        book.Evaluate([Finding("b", AlertSeverity.Critical)], 3, null, 3);
        var copy = AlertBook.FromBytes(book.ToBytes());
        Assert.Equal(book.ToBytes(), copy.ToBytes());
        Assert.Equal("exp-1", copy.Scope);
        Assert.True(book.Raised.Zip(copy.Raised).All(p => p.First.SameAs(p.Second)));
        var resolved = Assert.Single(copy.Evaluate([Finding("b", AlertSeverity.Critical)], 4, null, 3));
        Assert.Equal(("a", AlertState.Resolved), (resolved.Subject, resolved.State));
    }

    [Fact]
    public void FromBytes_UnknownVersionOrTruncated_ThrowsInvalidData()
    {
        var book = new AlertBook("exp-1");
        book.Evaluate([Finding("a", AlertSeverity.Warning)], 1, null, 3);
        var bytes = book.ToBytes();
        Assert.Throws<InvalidDataException>(() => AlertBook.FromBytes(bytes[..^4]));
        bytes[0] = 9;
        Assert.Throws<InvalidDataException>(() => AlertBook.FromBytes(bytes));
    }
}
