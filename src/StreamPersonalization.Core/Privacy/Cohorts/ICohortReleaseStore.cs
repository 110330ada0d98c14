using StreamPersonalization.Core.Privacy.Accounting;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Durable cohort releases and the privacy ledger, shared by every node (tables <c>sp_cohort_releases</c> and
/// <c>sp_privacy_ledger</c>). At most one release row exists per period, and it is written in the same transaction as the
/// ledger entries it spends: whichever releaser commits first wins, the others see the row and skip. The ledger is append-only.
/// </summary>
public interface ICohortReleaseStore
{
    /// <summary>Every ledger entry charged to <paramref name="budgetPeriod"/>, ordered by period then cohort.</summary>
    Task<IReadOnlyList<PrivacyLedgerEntry>> ReadLedgerAsync(string budgetPeriod, CancellationToken ct = default);

    /// <summary>
    /// In one transaction: inserts <paramref name="release"/> unless a row for its period exists
    /// (<see cref="ReleaseCommitResult.AlreadyReleased"/>), checks that the ledger of its budget period still holds
    /// <paramref name="expectedLedgerEntries"/> entries (else <see cref="ReleaseCommitResult.LedgerChanged"/>: re-read and
    /// decide again), and appends <paramref name="charges"/>. Nothing is written unless the result is
    /// <see cref="ReleaseCommitResult.Committed"/>. Concurrent calls on one budget period are serialized.
    /// </summary>
    Task<ReleaseCommitResult> TryCommitReleaseAsync(StoredCohortRelease release, IReadOnlyList<PrivacyLedgerEntry> charges, int expectedLedgerEntries, CancellationToken ct = default);

    /// <summary>The release row of <paramref name="period"/>, or null.</summary>
    Task<StoredCohortRelease?> GetReleaseAsync(string period, CancellationToken ct = default);

    /// <summary>The newest <paramref name="max"/> release rows, latest period first.</summary>
    Task<IReadOnlyList<StoredCohortRelease>> ListReleasesAsync(int max, CancellationToken ct = default);

    /// <summary>Release rows not yet marked published, oldest period first.</summary>
    Task<IReadOnlyList<StoredCohortRelease>> ListUnpublishedAsync(CancellationToken ct = default);

    /// <summary>Marks the release of <paramref name="period"/> published (idempotent; the first time is kept).</summary>
    Task MarkPublishedAsync(string period, long publishedAtMs, CancellationToken ct = default);
}

/// <summary>Outcome of <see cref="ICohortReleaseStore.TryCommitReleaseAsync"/>.</summary>
public enum ReleaseCommitResult
{
    /// <summary>The release row and its ledger entries are stored.</summary>
    Committed,

    /// <summary>The period already has a release row (another releaser won); nothing written.</summary>
    AlreadyReleased,

    /// <summary>The budget period's ledger changed since it was read; nothing written.</summary>
    LedgerChanged,
}

/// <summary>
/// A stored release attempt of one period: released (<see cref="Released"/>) or refused by the accountant, with its JSON
/// document (<see cref="CohortReleaseJson"/>: audit and released cohorts; no ids, exact counts or seed).
/// <see cref="PublishedAtMs"/> is set once its Kafka records are acknowledged.
/// </summary>
public sealed record StoredCohortRelease(
    string Period,
    long PeriodStartMs,
    long PeriodEndMs,
    string BudgetPeriod,
    bool Released,
    string Document,
    long CreatedAtMs,
    long? PublishedAtMs)
{
    public override string ToString() =>
        $"StoredCohortRelease({Period}, budget {BudgetPeriod}, {(Released ? "released" : "refused")}, {(PublishedAtMs is null ? "unpublished" : "published")})";
}
