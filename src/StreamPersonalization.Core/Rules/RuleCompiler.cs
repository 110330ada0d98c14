namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Entry point of the rule language: lex → parse → type-check → generate code. Compile at load time,
/// keep the <see cref="CompiledRule"/>, and call its <see cref="CompiledRule.Predicate"/> per event.
/// </summary>
/// <remarks>
/// Language summary. Precedence, loosest first: <c>||</c>, <c>&amp;&amp;</c>, <c>!</c>, comparisons
/// (<c>== != &lt; &lt;= &gt; &gt;=</c>, <c>in [..]</c>, <c>not in [..]</c>; not chainable), <c>+ -</c>,
/// <c>* /</c>, unary <c>-</c>. Literals: invariant-culture numbers (<c>20</c>, <c>0.5</c>, <c>1e3</c>),
/// strings in <c>"</c> or <c>'</c> with escapes <c>\\ \" \' \n \r \t \0 \uXXXX</c>, <c>true</c>/<c>false</c>.
/// Identifiers are the snake_case names of the <c>[Feature]</c>-tagged fields of
/// <see cref="Engagement.UserFeatures"/> (see <see cref="FeatureTable"/>).
/// Types (number, string, boolean) never convert implicitly; only numbers are ordered or used in arithmetic.
/// Run-time semantics: IEEE-754 doubles, so <c>x / 0</c> is ±Infinity and <c>0 / 0</c> is NaN (no error);
/// every comparison involving NaN is false, including <c>!=</c>. String features may be null:
/// <c>null == "x"</c> is false, <c>null != "x"</c> is true, <c>null in [..]</c> is false; two null
/// features compare equal. String comparison is ordinal (case-sensitive).
/// </remarks>
public static class RuleCompiler
{
    /// <summary>Compiles <paramref name="source"/>; throws <see cref="RuleSyntaxException"/> with the offending position.</summary>
    public static CompiledRule Compile(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var tree = Parser.Parse(source);
        var checkedRule = TypeChecker.Check(source, tree);
        var predicate = CodeGenerator.Generate(tree, checkedRule.Types);
        return new CompiledRule(source, checkedRule.Features, predicate, tree, checkedRule.Types);
    }

    /// <summary>
    /// Fuses up to 64 compiled rules into a single delegate returning a membership bitmask (bit i = rules[i]),
    /// so evaluating a whole catalog costs one call per event rather than one per rule.
    /// </summary>
    public static SegmentMaskEvaluator CompileMask(IReadOnlyList<CompiledRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return CodeGenerator.GenerateMask(rules);
    }
}
