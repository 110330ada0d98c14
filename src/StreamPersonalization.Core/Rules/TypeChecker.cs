namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Assigns a <see cref="RuleType"/> to every node and rejects ill-typed rules before any code is
/// generated, so a bad rule fails when the catalog loads rather than per event. Also resolves
/// feature names and records which features the rule reads.
/// </summary>
internal sealed class TypeChecker
{
    private readonly string _source;
    private readonly Dictionary<RuleNode, RuleType> _types = new(ReferenceEqualityComparer.Instance);
    private readonly List<FeatureReference> _features = [];

    private TypeChecker(string source) => _source = source;

    /// <summary>Result of checking: node types (by reference) and referenced features in source order, distinct.</summary>
    public sealed record Result(IReadOnlyDictionary<RuleNode, RuleType> Types, IReadOnlyList<string> Features);

    public static Result Check(string source, RuleNode root)
    {
        var checker = new TypeChecker(source);
        var type = checker.TypeOf(root);
        if (type != RuleType.Boolean)
            throw RuleSyntaxException.At(source, root.StartPosition(), $"A rule must be a boolean expression but this is a {type.Name()}");
        var features = checker._features.OrderBy(f => f.Position).Select(f => f.Name).Distinct().ToArray();
        return new Result(checker._types, features);
    }

    private RuleType TypeOf(RuleNode node)
    {
        var type = node switch
        {
            NumberLiteral => RuleType.Number,
            StringLiteral => RuleType.String,
            BooleanLiteral => RuleType.Boolean,
            FeatureReference feature => Feature(feature),
            UnaryExpression unary => Unary(unary),
            BinaryExpression binary => Binary(binary),
            MembershipExpression membership => Membership(membership),
            _ => throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name),
        };
        _types[node] = type;
        return type;
    }

    private RuleType Feature(FeatureReference reference)
    {
        if (!FeatureTable.TryGet(reference.Name, out var feature))
        {
            var suggestion = FeatureTable.Suggest(reference.Name);
            throw RuleSyntaxException.At(_source, reference.Position, $"Unknown feature '{reference.Name}'",
                suggestion is null ? null : $"did you mean '{suggestion}'?");
        }
        _features.Add(reference);
        return feature.Type;
    }

    private RuleType Unary(UnaryExpression unary)
    {
        var operandType = TypeOf(unary.Operand);
        var (expected, text) = unary.Operator == UnaryOperator.Not ? (RuleType.Boolean, "!") : (RuleType.Number, "-");
        if (operandType != expected)
            throw RuleSyntaxException.At(_source, unary.Position, $"Operator '{text}' requires a {expected.Name()} operand but got a {operandType.Name()}");
        return expected;
    }

    private RuleType Binary(BinaryExpression binary)
    {
        var left = TypeOf(binary.Left);
        var right = TypeOf(binary.Right);
        var text = OperatorText.Of(binary.Operator);
        if (binary.Operator is BinaryOperator.And or BinaryOperator.Or)
        {
            RequireOperand(binary.Left, left, RuleType.Boolean, text);
            RequireOperand(binary.Right, right, RuleType.Boolean, text);
            return RuleType.Boolean;
        }
        if (OperatorText.IsArithmetic(binary.Operator))
        {
            RequireOperand(binary.Left, left, RuleType.Number, text);
            RequireOperand(binary.Right, right, RuleType.Number, text);
            return RuleType.Number;
        }
        if (left != right)
            throw RuleSyntaxException.At(_source, binary.Position, $"Operator '{text}' cannot compare a {left.Name()} with a {right.Name()}");
        var isEquality = binary.Operator is BinaryOperator.Equal or BinaryOperator.NotEqual;
        if (!isEquality && left != RuleType.Number)
            throw RuleSyntaxException.At(_source, binary.Position, $"Operator '{text}' cannot be applied to {left.Name()}s", "only numbers are ordered");
        return RuleType.Boolean;
    }

    private void RequireOperand(RuleNode operand, RuleType actual, RuleType expected, string text)
    {
        if (actual != expected)
            throw RuleSyntaxException.At(_source, operand.StartPosition(), $"Operator '{text}' requires {expected.Name()} operands but got a {actual.Name()}");
    }

    private RuleType Membership(MembershipExpression membership)
    {
        var valueType = TypeOf(membership.Value);
        if (valueType == RuleType.Boolean)
            throw RuleSyntaxException.At(_source, membership.Position, "Operator 'in' requires a number or string on its left but got a boolean");
        foreach (var item in membership.Items)
        {
            var itemType = TypeOf(item);
            if (itemType != valueType)
                throw RuleSyntaxException.At(_source, item.StartPosition(), $"List item is a {itemType.Name()} but the value tested is a {valueType.Name()}");
        }
        return RuleType.Boolean;
    }
}
