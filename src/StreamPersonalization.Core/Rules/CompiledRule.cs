using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Rules;

/// <summary>
/// A rule compiled once by <see cref="RuleCompiler"/>: the source it came from, the features it reads,
/// and a delegate that evaluates it without interpretation or allocation.
/// </summary>
public sealed class CompiledRule
{
    internal CompiledRule(string source, IReadOnlyList<string> features, SegmentPredicate predicate, RuleNode tree,
        IReadOnlyDictionary<RuleNode, RuleType> types)
    {
        Source = source;
        Features = features;
        Predicate = predicate;
        Tree = tree;
        Types = types;
    }

    /// <summary>The checked syntax tree, kept for <see cref="Explain"/> and for fusing rules (<see cref="RuleCompiler.CompileMask"/>).</summary>
    internal RuleNode Tree { get; }

    internal IReadOnlyDictionary<RuleNode, RuleType> Types { get; }

    /// <summary>The rule text as written.</summary>
    public string Source { get; }

    /// <summary>Referenced feature names, distinct, in order of first appearance in <see cref="Source"/>.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>The compiled rule; use it directly on hot paths to skip one call.</summary>
    public SegmentPredicate Predicate { get; }

    /// <summary>Evaluates the rule for one feature vector.</summary>
    public bool Evaluate(in UserFeatures features) => Predicate(in features);

    /// <summary>
    /// The rule with each referenced feature shown with its value, followed by the outcome, e.g.
    /// <c>engagement_score=23.4 (&gt;= 20) &amp;&amp; sessions_7d=3 (&gt;= 3) =&gt; true</c>. For diagnostics, not hot paths.
    /// </summary>
    public string Explain(in UserFeatures features) =>
        RuleExplainer.Explain(Tree, in features) + (Predicate(in features) ? " => true" : " => false");

    public override string ToString() => Source;
}
