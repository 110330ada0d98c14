namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Entry point of the rule language: lex → parse → type-check → generate code. Compile at load time,
/// keep the <see cref="CompiledRule"/>, and call its <see cref="CompiledRule.Predicate"/> per event.
/// </summary>
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
