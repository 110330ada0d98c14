namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Syntax tree of a rule. Every node keeps the source offset of the token that defines it so the
/// type checker can report errors at the operator or operand that is wrong.
/// </summary>
internal abstract record RuleNode(int Position);

internal sealed record NumberLiteral(double Value, int Position) : RuleNode(Position);

internal sealed record StringLiteral(string Value, int Position) : RuleNode(Position);

internal sealed record BooleanLiteral(bool Value, int Position) : RuleNode(Position);

internal sealed record FeatureReference(string Name, int Position) : RuleNode(Position);

internal enum UnaryOperator { Negate, Not }

internal sealed record UnaryExpression(UnaryOperator Operator, RuleNode Operand, int Position) : RuleNode(Position);

internal enum BinaryOperator
{
    Or, And,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    Add, Subtract, Multiply, Divide,
}

internal sealed record BinaryExpression(BinaryOperator Operator, RuleNode Left, RuleNode Right, int Position) : RuleNode(Position);

/// <summary><c>value in [items]</c>, or <c>value not in [items]</c> when <see cref="Negated"/>; items are literals.</summary>
internal sealed record MembershipExpression(RuleNode Value, IReadOnlyList<RuleNode> Items, bool Negated, int Position) : RuleNode(Position);

/// <summary>Operator spellings, shared by the parser's messages, the type checker and <see cref="CompiledRule.Explain"/>.</summary>
internal static class OperatorText
{
    public static string Of(BinaryOperator op) => op switch
    {
        BinaryOperator.Or => "||",
        BinaryOperator.And => "&&",
        BinaryOperator.Equal => "==",
        BinaryOperator.NotEqual => "!=",
        BinaryOperator.Less => "<",
        BinaryOperator.LessEqual => "<=",
        BinaryOperator.Greater => ">",
        BinaryOperator.GreaterEqual => ">=",
        BinaryOperator.Add => "+",
        BinaryOperator.Subtract => "-",
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static bool IsComparison(BinaryOperator op) => op is >= BinaryOperator.Equal and <= BinaryOperator.GreaterEqual;

    public static bool IsArithmetic(BinaryOperator op) => op >= BinaryOperator.Add;
}

internal static class RuleNodeExtensions
{
    /// <summary>Offset of the leftmost token of a node (binary nodes store their operator's offset).</summary>
    public static int StartPosition(this RuleNode node) => node switch
    {
        BinaryExpression binary => binary.Left.StartPosition(),
        MembershipExpression membership => membership.Value.StartPosition(),
        _ => node.Position,
    };
}
