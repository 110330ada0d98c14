using System.Linq.Expressions;
using System.Reflection;
using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Turns a type-checked tree into a <see cref="SegmentPredicate"/> via System.Linq.Expressions, reading
/// fields straight off the by-ref <see cref="UserFeatures"/> parameter. Compiling once to IL means the
/// per-event cost is a delegate call with no interpretation, boxing or allocation.
/// </summary>
/// <remarks>
/// Semantics fixed here: arithmetic is IEEE-754 double, so division by zero gives ±Infinity (or NaN for 0/0)
/// rather than an error; every numeric comparison involving NaN is false — including <c>!=</c>, which
/// is why it is emitted as <c>a &lt; b || a &gt; b</c>. String equality is ordinal and null-safe:
/// <c>null == "x"</c> is false, <c>null != "x"</c> is true, <c>null in [...]</c> is false and
/// <c>not in</c> is exactly the negation of <c>in</c>.
/// </remarks>
internal sealed class CodeGenerator
{
    private static readonly MethodInfo StringEquals =
        typeof(string).GetMethod(nameof(string.Equals), BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(string)])!;

    private readonly ParameterExpression _features;
    private readonly IReadOnlyDictionary<RuleNode, RuleType> _types;

    private CodeGenerator(IReadOnlyDictionary<RuleNode, RuleType> types, ParameterExpression? features = null)
    {
        _types = types;
        _features = features ?? Expression.Parameter(typeof(UserFeatures).MakeByRefType(), "features");
    }

    public static SegmentPredicate Generate(RuleNode root, IReadOnlyDictionary<RuleNode, RuleType> types)
    {
        var generator = new CodeGenerator(types);
        var body = generator.Emit(root);
        return Expression.Lambda<SegmentPredicate>(body, "SegmentRule", [generator._features]).Compile();
    }

    /// <summary>
    /// Fuses several rules into one delegate returning a bitmask (bit i set when rule i holds). One call
    /// per event instead of one per segment lets the JIT keep the struct in place and skip N indirect calls.
    /// </summary>
    public static SegmentMaskEvaluator GenerateMask(IReadOnlyList<CompiledRule> rules)
    {
        if (rules.Count > 64)
            throw new ArgumentException("At most 64 rules fit in a mask.", nameof(rules));
        var features = Expression.Parameter(typeof(UserFeatures).MakeByRefType(), "features");
        var mask = Expression.Variable(typeof(ulong), "mask");
        var body = new List<Expression> { Expression.Assign(mask, Expression.Constant(0UL)) };
        for (var i = 0; i < rules.Count; i++)
        {
            var generator = new CodeGenerator(rules[i].Types, features);
            body.Add(Expression.IfThen(
                generator.Emit(rules[i].Tree),
                Expression.OrAssign(mask, Expression.Constant(1UL << i))));
        }
        body.Add(mask);
        return Expression.Lambda<SegmentMaskEvaluator>(Expression.Block([mask], body), "SegmentMask", [features]).Compile();
    }

    private Expression Emit(RuleNode node) => node switch
    {
        NumberLiteral number => Expression.Constant(number.Value),
        StringLiteral text => Expression.Constant(text.Value, typeof(string)),
        BooleanLiteral boolean => Expression.Constant(boolean.Value),
        FeatureReference feature => EmitFeature(feature),
        UnaryExpression unary => unary.Operator == UnaryOperator.Not
            ? Expression.Not(Emit(unary.Operand))
            : Expression.Negate(Emit(unary.Operand)),
        BinaryExpression binary => EmitBinary(binary),
        MembershipExpression membership => EmitMembership(membership),
        _ => throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name),
    };

    private Expression EmitFeature(FeatureReference reference)
    {
        FeatureTable.TryGet(reference.Name, out var feature);
        return Expression.Field(_features, feature.Field);
    }

    private Expression EmitBinary(BinaryExpression binary)
    {
        var left = Emit(binary.Left);
        var right = Emit(binary.Right);
        var operandType = _types[binary.Left];
        return binary.Operator switch
        {
            BinaryOperator.Or => Expression.OrElse(left, right),
            BinaryOperator.And => Expression.AndAlso(left, right),
            BinaryOperator.Add => Expression.Add(left, right),
            BinaryOperator.Subtract => Expression.Subtract(left, right),
            BinaryOperator.Multiply => Expression.Multiply(left, right),
            BinaryOperator.Divide => Expression.Divide(left, right),
            BinaryOperator.Less => Expression.LessThan(left, right),
            BinaryOperator.LessEqual => Expression.LessThanOrEqual(left, right),
            BinaryOperator.Greater => Expression.GreaterThan(left, right),
            BinaryOperator.GreaterEqual => Expression.GreaterThanOrEqual(left, right),
            BinaryOperator.Equal => EmitEqual(operandType, left, right),
            BinaryOperator.NotEqual => EmitNotEqual(operandType, left, right),
            _ => throw new ArgumentOutOfRangeException(nameof(binary), binary.Operator.ToString()),
        };
    }

    private static Expression EmitEqual(RuleType type, Expression left, Expression right) =>
        type == RuleType.String ? Expression.Call(StringEquals, left, right) : Expression.Equal(left, right);

    private static Expression EmitNotEqual(RuleType type, Expression left, Expression right)
    {
        if (type == RuleType.String)
            return Expression.Not(Expression.Call(StringEquals, left, right));
        if (type == RuleType.Boolean)
            return Expression.NotEqual(left, right);
        // NaN != x must be false, so "not equal" is "strictly less or strictly greater"; temporaries keep
        // each operand evaluated exactly once.
        var l = Expression.Variable(typeof(double), "l");
        var r = Expression.Variable(typeof(double), "r");
        return Expression.Block(
            [l, r],
            Expression.Assign(l, left),
            Expression.Assign(r, right),
            Expression.OrElse(Expression.LessThan(l, r), Expression.GreaterThan(l, r)));
    }

    private Expression EmitMembership(MembershipExpression membership)
    {
        var type = _types[membership.Value];
        var value = Expression.Variable(type == RuleType.String ? typeof(string) : typeof(double), "value");
        var items = membership.Items;
        if (items.Count == 0)
            return Expression.Constant(membership.Negated);
        var test = EmitEqual(type, value, Emit(items[^1]));
        for (var i = items.Count - 2; i >= 0; i--)
            test = Expression.OrElse(EmitEqual(type, value, Emit(items[i])), test);
        Expression result = Expression.Block([value], Expression.Assign(value, Emit(membership.Value)), test);
        return membership.Negated ? Expression.Not(result) : result;
    }
}
