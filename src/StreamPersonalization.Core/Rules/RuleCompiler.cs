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
        return new CompiledRule(source, checkedRule.Features, predicate, tree);
    }
}
