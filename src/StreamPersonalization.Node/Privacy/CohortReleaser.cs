using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;

namespace StreamPersonalization.Node.Privacy;

/// <summary>
/// The periodic cohort-metrics release (issue 4, item 6): for each period, read all stored users, aggregate their clipped
/// contributions, charge the durable privacy ledger, add calibrated noise, suppress small cohorts, store the release with its
/// audit record and publish it. Any number of nodes may run it; exactly one release per period happens cluster-wide because
/// the release row (unique per period) and its ledger entries commit in one transaction, and a releaser that finds the row
/// skips the period. A release the budget cannot pay for is refused: the refusal is stored (so no node retries it), logged
/// and published as a <c>privacy_budget</c> alert, and nothing is released.
/// <para>
/// Scheduling runs on event time, like the rest of the pipeline: a period is due once the stream's watermark (the largest
/// partition watermark checkpointed) is <see cref="CohortReleaseOptions.ReleaseDelay"/> past its end, so replayed or synthetic
/// data is released by its own dates. Only the latest due period is released; a period that fell due while no releaser ran,
/// and was followed by a later one, is skipped (its users' rolling state has moved on). A partition lagging by more than the
/// delay misses the release.
/// </para>
/// <para>
/// Noise seeds come from <see cref="NoiseSource.DeriveSeed"/> with a secret drawn per process: a retried attempt in this
/// process reuses its noise, and noise drawn by a releaser that loses the race is discarded unseen. Re-publication after a
/// crash uses the stored values, never fresh noise, so repeated publication never averages noise away.
/// </para>
/// </summary>
public sealed class CohortReleaser
{
    private const int MaxLedgerRetries = 8;

    private readonly CohortReleaseOptions _options;
    private readonly CohortAggregator _aggregator;
    private readonly StoredUserContributions _users;
    private readonly ICohortReleaseStore _releases;
    private readonly CohortPublisher _publisher;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly byte[] _noiseSecret;

    /// <param name="noiseSecret">Secret for the noise seeds (≥ 32 bytes); a fresh random one when null. Tests pass a fixed one.</param>
    public CohortReleaser(CohortReleaseOptions options, StoredUserContributions users, ICohortReleaseStore releases, CohortPublisher publisher,
        ILogger log, TimeProvider? clock = null, byte[]? noiseSecret = null)
    {
        _options = options.Validate();
        _aggregator = new CohortAggregator(options);
        _users = users;
        _releases = releases;
        _publisher = publisher;
        _log = log;
        _clock = clock ?? TimeProvider.System;
        if (noiseSecret is { Length: < 32 }) throw new ArgumentException("the noise secret needs at least 32 bytes", nameof(noiseSecret));
        _noiseSecret = noiseSecret ?? RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>Releases (or refuses) <paramref name="period"/> unless some releaser already did.</summary>
    public async Task<CohortReleaseOutcome> ReleaseAsync(CohortPeriod period, CancellationToken ct)
    {
        if (period.Days != _options.PeriodDays) throw new ArgumentException($"{period} does not match Privacy:Cohorts:Period = {_options.Period}", nameof(period));
        if (await _releases.GetReleaseAsync(period.Id, ct).ConfigureAwait(false) is { } existing) return new(period, CohortReleaseStatus.AlreadyReleased, existing, 0);

        var (contributions, unreadable) = await _users.ReadAsync(period, _aggregator.Bands, ct).ConfigureAwait(false);
        if (unreadable > 0) _log.LogWarning("Cohort release {Period}: {Count} stored users could not be read and were left out", period.Id, unreadable);
        var totals = _aggregator.Aggregate(contributions);
        contributions.Clear();

        var budgetPeriod = period.BudgetWindow(_options.BudgetPeriods).Id;
        var seed = NoiseSource.DeriveSeed(_noiseSecret, period.Id);
        for (var attempt = 0; attempt < MaxLedgerRetries; attempt++)
        {
            var ledger = await _releases.ReadLedgerAsync(budgetPeriod, ct).ConfigureAwait(false);
            var accountant = PrivacyAccountant.FromLedger(_options.PeriodBudget, ledger);
            var spentBefore = accountant.MaxSpent(budgetPeriod, _aggregator.CohortNames);
            var result = _aggregator.Release(totals, period.Id, seed, accountant, budgetPeriod);
            var charges = result.Released
                ? _aggregator.CohortNames.Select(c => new PrivacyLedgerEntry(budgetPeriod, period.Id, c, result.Audit.ChargedPerCohort)).ToList()
                : [];
            var record = new StoredCohortRelease(period.Id, period.StartMs, period.EndMs, budgetPeriod, result.Released,
                CohortReleaseJson.Document(period, result, _options, spentBefore), _clock.GetUtcNow().ToUnixTimeMilliseconds(), null);
            switch (await _releases.TryCommitReleaseAsync(record, charges, ledger.Count, ct).ConfigureAwait(false))
            {
                case ReleaseCommitResult.AlreadyReleased:
                    _log.LogInformation("Cohort release {Period}: another releaser released it first", period.Id);
                    return new(period, CohortReleaseStatus.AlreadyReleased, (await _releases.GetReleaseAsync(period.Id, ct).ConfigureAwait(false))!, 0);
                case ReleaseCommitResult.LedgerChanged:
                    continue;
            }
            if (result.Released) _log.LogInformation("Cohort release: {Audit}", result.Audit);
            else _log.LogError("Cohort release refused, nothing released: {Audit}", result.Audit);
            var published = await PublishAsync(record, ct).ConfigureAwait(false);
            return new(period, result.Released ? CohortReleaseStatus.Released : CohortReleaseStatus.Refused, record, published);
        }
        throw new InvalidOperationException($"cohort release {period.Id}: the ledger of {budgetPeriod} kept changing over {MaxLedgerRetries} attempts");
    }

    /// <summary>Publishes stored releases not yet marked published (a releaser crashed between commit and publication).</summary>
    public async Task<int> PublishPendingAsync(CancellationToken ct)
    {
        var total = 0;
        foreach (var release in await _releases.ListUnpublishedAsync(ct).ConfigureAwait(false))
            total += await PublishAsync(release, ct).ConfigureAwait(false);
        return total;
    }

    /// <summary>The period due at the stream's current watermark, or null when nothing has been checkpointed yet.</summary>
    public async Task<CohortPeriod?> DuePeriodAsync(CancellationToken ct) =>
        await _users.WatermarkAsync(ct).ConfigureAwait(false) is { } watermark
            ? CohortPeriod.LatestDue(watermark, _options.PeriodDays, _options.ReleaseDelay)
            : null;

    /// <summary>One round: publish what is pending, then release the due period if nobody has.</summary>
    public async Task<CohortReleaseOutcome?> TickAsync(CancellationToken ct)
    {
        await PublishPendingAsync(ct).ConfigureAwait(false);
        return await DuePeriodAsync(ct).ConfigureAwait(false) is { } due ? await ReleaseAsync(due, ct).ConfigureAwait(false) : null;
    }

    /// <summary>Runs <see cref="TickAsync"/> every <see cref="CohortReleaseOptions.CheckInterval"/> until cancelled; failures are logged and retried.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await TickAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // A committed release stays in the store and is published by a later round: delayed, never lost or redone.
                _log.LogWarning(e, "Cohort release round failed; retrying in {Interval}", _options.CheckInterval);
            }
            try { await Task.Delay(_options.CheckInterval, _clock, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<int> PublishAsync(StoredCohortRelease release, CancellationToken ct)
    {
        var n = await _publisher.PublishAsync(release, ct).ConfigureAwait(false);
        await _releases.MarkPublishedAsync(release.Period, _clock.GetUtcNow().ToUnixTimeMilliseconds(), ct).ConfigureAwait(false);
        return n;
    }

    public override string ToString() => $"CohortReleaser({_aggregator}, period {_options.Period}, delay {_options.ReleaseDelay}, budget window {_options.BudgetPeriods} periods)";
}

/// <summary>What happened to a period.</summary>
public enum CohortReleaseStatus
{
    /// <summary>This releaser released it (stored, charged and published).</summary>
    Released,

    /// <summary>This releaser refused it for lack of budget (stored, alerted; nothing released).</summary>
    Refused,

    /// <summary>A release or refusal of the period was already stored; nothing done.</summary>
    AlreadyReleased,
}

/// <summary>Outcome of <see cref="CohortReleaser.ReleaseAsync"/>: the stored release row and how many records this call published.</summary>
public sealed record CohortReleaseOutcome(CohortPeriod Period, CohortReleaseStatus Status, StoredCohortRelease Release, int Published)
{
    public override string ToString() => $"CohortReleaseOutcome({Period.Id}: {Status}, {Published} records published)";
}
