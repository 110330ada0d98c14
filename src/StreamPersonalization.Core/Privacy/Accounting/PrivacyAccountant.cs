using System.Globalization;
using System.Text;

namespace StreamPersonalization.Core.Privacy.Accounting;

/// <summary>
/// Tracks the (ε, δ) spent per cohort per release period and refuses any release that would exceed the per-period
/// budget. Composition is basic sequential composition (Dwork &amp; Roth 2014, Theorem 3.16): k releases that are
/// (εᵢ, δᵢ)-DP on the same data are (Σεᵢ, Σδᵢ)-DP together, so spent amounts simply add up. Different cohorts are
/// accounted separately because they hold disjoint users (a user contributes to one cohort per period), and disjoint
/// data compose in parallel (McSherry 2009): a cohort's spend bounds the loss of each of its users. Periods are
/// accounted separately because each period's release uses only that period's contributions.
/// <para>
/// Charges are all-or-nothing across the named cohorts. A refusal is a result, never an exception; it depends only
/// on the public charge sizes, not on the data, so refusing leaks nothing. A relative tolerance of 1e-9 lets
/// budgets that are exact multiples of a charge (e.g. 4 × 0.25) be used fully despite rounding.
/// </para>
/// State is checkpointed with <see cref="ToBytes"/> / <see cref="FromBytes"/>; the budget itself comes from
/// configuration on every start (lowering it takes effect at once; raising it mid-period is a policy decision the
/// configuration owner makes). Not thread-safe: one owner (the release job) at a time.
/// </summary>
public sealed class PrivacyAccountant
{
    /// <summary>Binary format version of <see cref="ToBytes"/>. Version 1: see <see cref="ToBytes"/>.</summary>
    public const byte FormatVersion = 1;

    private const double Tolerance = 1e-9;

    private readonly Dictionary<(string Period, string Cohort), Entry> _spent = new();

    /// <param name="budgetPerCohortPerPeriod">ε &gt; 0 and 0 ≤ δ &lt; 1 each cohort may spend in each period.</param>
    public PrivacyAccountant(PrivacyBudget budgetPerCohortPerPeriod)
    {
        if (!budgetPerCohortPerPeriod.IsValid || !(budgetPerCohortPerPeriod.Epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(budgetPerCohortPerPeriod), budgetPerCohortPerPeriod, "budget needs ε > 0 and 0 ≤ δ < 1");
        Budget = budgetPerCohortPerPeriod;
    }

    public PrivacyBudget Budget { get; }

    /// <summary>(period, cohort) pairs with recorded spend.</summary>
    public int EntryCount => _spent.Count;

    /// <summary>What <paramref name="cohort"/> has spent in <paramref name="period"/> (zero if nothing).</summary>
    public PrivacyBudget Spent(string period, string cohort) => _spent.TryGetValue((period, cohort), out var e) ? e.Spent : PrivacyBudget.Zero;

    /// <summary>Releases recorded for <paramref name="cohort"/> in <paramref name="period"/>.</summary>
    public int Releases(string period, string cohort) => _spent.TryGetValue((period, cohort), out var e) ? e.Releases : 0;

    /// <summary>Budget minus spend, floored at zero.</summary>
    public PrivacyBudget Remaining(string period, string cohort)
    {
        var s = Spent(period, cohort);
        return new(Math.Max(0, Budget.Epsilon - s.Epsilon), Math.Max(0, Budget.Delta - s.Delta));
    }

    /// <summary>
    /// Charges (ε, δ) to every cohort in <paramref name="cohorts"/> for <paramref name="period"/> if none of them would
    /// exceed the budget; otherwise records nothing and says why.
    /// </summary>
    public ChargeResult TryCharge(string period, IReadOnlyCollection<string> cohorts, PrivacyBudget charge)
    {
        if (string.IsNullOrEmpty(period) || !charge.IsValid || !(charge.Epsilon > 0))
            return Refuse(RefusalReason.InvalidCharge, $"charge {charge} for period '{period}' needs ε > 0, 0 ≤ δ < 1 and a period");
        if (cohorts.Count == 0) return Refuse(RefusalReason.NoCohorts, "no cohorts named");
        foreach (var cohort in cohorts)
        {
            if (string.IsNullOrEmpty(cohort)) return Refuse(RefusalReason.InvalidCharge, "empty cohort name");
            var after = Spent(period, cohort) + charge;
            if (after.Epsilon > Budget.Epsilon * (1 + Tolerance))
                return Refuse(RefusalReason.EpsilonBudgetExceeded,
                    Invariant($"cohort '{cohort}' in period '{period}' has spent ε={Spent(period, cohort).Epsilon:G6} of {Budget.Epsilon:G6}; ε={charge.Epsilon:G6} more would exceed it"));
            if (after.Delta > Budget.Delta * (1 + Tolerance))
                return Refuse(RefusalReason.DeltaBudgetExceeded,
                    Invariant($"cohort '{cohort}' in period '{period}' has spent δ={Spent(period, cohort).Delta:G3} of {Budget.Delta:G3}; δ={charge.Delta:G3} more would exceed it"));
        }
        foreach (var cohort in cohorts)
        {
            var key = (period, cohort);
            var e = _spent.TryGetValue(key, out var old) ? old : new Entry(PrivacyBudget.Zero, 0);
            _spent[key] = new Entry(e.Spent + charge, e.Releases + 1);
        }
        return new(true, RefusalReason.None, null, period, cohorts.Count, charge);

        ChargeResult Refuse(RefusalReason reason, string detail) => new(false, reason, detail, period ?? "", cohorts.Count, charge);
    }

    /// <summary>
    /// Rebuilds an accountant from a durable ledger: each entry adds its charge and one release to (budget period, cohort).
    /// No budget check: the entries record spending that already happened, and must count even if the budget was lowered since.
    /// </summary>
    public static PrivacyAccountant FromLedger(PrivacyBudget budget, IEnumerable<PrivacyLedgerEntry> entries)
    {
        var accountant = new PrivacyAccountant(budget);
        foreach (var e in entries)
        {
            if (!e.Charge.IsValid) throw new InvalidDataException($"invalid ledger charge {e}");
            var key = (e.BudgetPeriod, e.Cohort);
            var old = accountant._spent.TryGetValue(key, out var x) ? x : new Entry(PrivacyBudget.Zero, 0);
            accountant._spent[key] = new Entry(old.Spent + e.Charge, old.Releases + 1);
        }
        return accountant;
    }

    /// <summary>The largest ε and the largest δ any of <paramref name="cohorts"/> has spent in <paramref name="period"/>.</summary>
    public PrivacyBudget MaxSpent(string period, IEnumerable<string> cohorts)
    {
        double eps = 0, delta = 0;
        foreach (var c in cohorts)
        {
            var s = Spent(period, c);
            eps = Math.Max(eps, s.Epsilon);
            delta = Math.Max(delta, s.Delta);
        }
        return new(eps, delta);
    }

    /// <summary>Drops the records of periods that sort (ordinally) before <paramref name="period"/>; returns how many entries went.</summary>
    public int RemovePeriodsBefore(string period)
    {
        var old = _spent.Keys.Where(k => string.CompareOrdinal(k.Period, period) < 0).ToList();
        foreach (var k in old) _spent.Remove(k);
        return old.Count;
    }

    /// <summary>
    /// Version 1 layout (little-endian, strings as BinaryWriter length-prefixed UTF-8): byte version = 1, int32 count,
    /// then per entry sorted by (period, cohort) ordinally: string period, string cohort, double ε spent,
    /// double δ spent, int32 releases. Sorted so equal states give equal bytes.
    /// </summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream(16 + _spent.Count * 64);
        using (var w = new BinaryWriter(ms, Encoding.UTF8))
        {
            w.Write(FormatVersion);
            w.Write(_spent.Count);
            foreach (var (key, e) in _spent.OrderBy(kv => kv.Key.Period, StringComparer.Ordinal).ThenBy(kv => kv.Key.Cohort, StringComparer.Ordinal))
            {
                w.Write(key.Period);
                w.Write(key.Cohort);
                w.Write(e.Spent.Epsilon);
                w.Write(e.Spent.Delta);
                w.Write(e.Releases);
            }
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Restores <see cref="ToBytes"/> output under the configured <paramref name="budget"/>; throws
    /// <see cref="InvalidDataException"/> for an unknown version, truncated bytes or invalid amounts.
    /// </summary>
    public static PrivacyAccountant FromBytes(byte[] bytes, PrivacyBudget budget)
    {
        var accountant = new PrivacyAccountant(budget);
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            var version = r.ReadByte();
            if (version != FormatVersion) throw new InvalidDataException($"privacy accountant format {version} is not supported (expected {FormatVersion})");
            var count = r.ReadInt32();
            if (count < 0) throw new InvalidDataException("negative entry count");
            for (var i = 0; i < count; i++)
            {
                var period = r.ReadString();
                var cohort = r.ReadString();
                var spent = new PrivacyBudget(r.ReadDouble(), r.ReadDouble());
                var releases = r.ReadInt32();
                if (!spent.IsValid || releases < 0) throw new InvalidDataException($"invalid spend {spent} or release count {releases} for '{cohort}' in '{period}'");
                if (!accountant._spent.TryAdd((period, cohort), new Entry(spent, releases)))
                    throw new InvalidDataException($"duplicate entry for '{cohort}' in '{period}'");
            }
            if (r.BaseStream.Position != bytes.Length) throw new InvalidDataException("trailing bytes after the accountant state");
        }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated privacy accountant state", e); }
        return accountant;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public override string ToString() => $"PrivacyAccountant(budget {Budget} per cohort per period, {_spent.Count} entries)";

    private readonly record struct Entry(PrivacyBudget Spent, int Releases);
}
