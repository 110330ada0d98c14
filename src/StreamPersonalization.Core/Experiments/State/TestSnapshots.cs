namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Pearson chi-square test of independence of arm and outcome over all arms at once (arms × {converted, not}, no
/// continuity correction), with the smallest expected cell count so readers can judge the approximation.
/// </summary>
public sealed record ChiSquareSnapshot(double Statistic, int DegreesOfFreedom, double PValue, double MinimumExpectedCount, string? Error);

/// <summary>
/// The 2×2 test of one treatment against the control chosen by Cochran's rule on the expected counts of
/// {treatment, control} × {converted, not}: below <see cref="CountTests.FisherBelowExpected"/> in any cell,
/// Fisher's exact two-sided p-value (<c>fisher-exact</c>); otherwise the large-sample two-proportion z test, whose
/// p equals the 2×2 Pearson chi-square's (<c>two-proportion-z</c>). <see cref="PValue"/> is the chosen test's.
/// </summary>
public sealed record CountTestSnapshot(string Test, double MinimumExpectedCount, double PValue, string? Error);

/// <summary>
/// Mann–Whitney U of a treatment against the control on the arms' per-user value histograms (each bin a tie group,
/// tie- and continuity-corrected normal approximation). U counts treatment-over-control pairs (ties ½). Binning treats
/// values within a quarter-octave bin as tied, so this approximates the test on raw values.
/// </summary>
public sealed record RankTestSnapshot(double U, double Z, double PValue, string? Error);

/// <summary>
/// Main effects and interactions of a factorial experiment: the full-interaction linear model on per-cell sums with
/// effect-coded coefficients and Type III F-tests (see <see cref="Statistics.Frequentist.FactorialAnova"/>).
/// <see cref="Model"/> is <c>linear</c> for continuous metrics and <c>linear-probability</c> for binary ones (the same
/// model on 0/1 outcomes). Errors: <c>factorial.EmptyCell:&lt;cell&gt;</c>, <c>factorial.TooFewUsers</c> (no residual
/// degrees of freedom), <c>factorial.ZeroVariance</c>, <c>factorial.NoFactors</c>, <c>factorial.UnknownCell:&lt;variant&gt;</c>.
/// </summary>
public sealed record FactorialSnapshot(
    IReadOnlyList<FactorShape> Factors,
    string Coding,
    string Model,
    long Users,
    long ResidualDegreesOfFreedom,
    double MeanSquaredError,
    IReadOnlyList<FactorialCoefficientSnapshot> Coefficients,
    IReadOnlyList<FactorialEffectSnapshot> Effects,
    IReadOnlyList<string> Errors);

/// <summary>One coefficient; <see cref="Term"/> is <c>(Intercept)</c>, <c>color=red</c> or <c>color=red:position=top</c>.</summary>
public sealed record FactorialCoefficientSnapshot(string Term, double Estimate, double StandardError, double T, double PValue);

/// <summary>Type III F-test of one main effect (<c>color</c>) or interaction (<c>color:position</c>).</summary>
public sealed record FactorialEffectSnapshot(string Term, double SumOfSquares, int DegreesOfFreedom, double F, double PValue);
