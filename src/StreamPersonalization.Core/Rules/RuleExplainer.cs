using System.Globalization;
using System.Text;
using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Renders a rule with the actual feature values substituted, for debugging why a user is (not) in a
/// segment: <c>engagement_score=23.4 (&gt;= 20) &amp;&amp; sessions_7d=3 (&gt;= 3)</c>. Off the hot path, so it
/// favours readability over speed (boxing field reads are fine here).
/// </summary>
internal sealed class RuleExplainer
{
    private const int OrLevel = 1, AndLevel = 2, NotLevel = 3, ComparisonLevel = 4, AdditiveLevel = 5, MultiplicativeLevel = 6, UnaryLevel = 7, PrimaryLevel = 8;

    private readonly UserFeatures _features;
    private readonly StringBuilder _text = new();

    private RuleExplainer(in UserFeatures features) => _features = features;

    public static string Explain(RuleNode root, in UserFeatures features)
    {
        var explainer = new RuleExplainer(features);
        explainer.Write(root, 0);
        return explainer._text.ToString();
    }

    /// <summary>Formats a number the way rules spell them (invariant, round-trippable).</summary>
    public static string FormatNumber(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a string as a double-quoted rule literal, or <c>null</c>.</summary>
    public static string FormatString(string? value)
    {
        if (value is null)
            return "null";
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return builder.Append('"').ToString();
    }

    private static int Level(RuleNode node) => node switch
    {
        BinaryExpression { Operator: BinaryOperator.Or } => OrLevel,
        BinaryExpression { Operator: BinaryOperator.And } => AndLevel,
        UnaryExpression { Operator: UnaryOperator.Not } => NotLevel,
        BinaryExpression { Operator: BinaryOperator.Add or BinaryOperator.Subtract } => AdditiveLevel,
        BinaryExpression { Operator: BinaryOperator.Multiply or BinaryOperator.Divide } => MultiplicativeLevel,
        BinaryExpression or MembershipExpression => ComparisonLevel,
        UnaryExpression => UnaryLevel,
        _ => PrimaryLevel,
    };

    /// <summary>Writes <paramref name="node"/>, parenthesised if its level is below <paramref name="minLevel"/>.</summary>
    private void Write(RuleNode node, int minLevel)
    {
        var level = Level(node);
        var parenthesise = level < minLevel;
        if (parenthesise)
            _text.Append('(');
        switch (node)
        {
            case NumberLiteral number: _text.Append(FormatNumber(number.Value)); break;
            case StringLiteral text: _text.Append(FormatString(text.Value)); break;
            case BooleanLiteral boolean: _text.Append(boolean.Value ? "true" : "false"); break;
            case FeatureReference feature: WriteFeature(feature); break;
            case UnaryExpression unary:
                _text.Append(unary.Operator == UnaryOperator.Not ? "!" : "-");
                Write(unary.Operand, level);
                break;
            case BinaryExpression binary when OperatorText.IsComparison(binary.Operator):
                WriteComparison(binary.Left, OperatorText.Of(binary.Operator), () => Write(binary.Right, AdditiveLevel));
                break;
            case BinaryExpression binary:
                Write(binary.Left, level);
                _text.Append(' ').Append(OperatorText.Of(binary.Operator)).Append(' ');
                Write(binary.Right, level + 1);
                break;
            case MembershipExpression membership:
                WriteComparison(membership.Value, membership.Negated ? "not in" : "in", () => WriteList(membership.Items));
                break;
        }
        if (parenthesise)
            _text.Append(')');
    }

    /// <summary>A feature compared with something reads best as <c>name=value (op rhs)</c>.</summary>
    private void WriteComparison(RuleNode left, string op, Action writeRight)
    {
        if (left is FeatureReference feature)
        {
            WriteFeature(feature);
            _text.Append(" (").Append(op).Append(' ');
            writeRight();
            _text.Append(')');
            return;
        }
        Write(left, AdditiveLevel);
        _text.Append(' ').Append(op).Append(' ');
        writeRight();
    }

    private void WriteList(IReadOnlyList<RuleNode> items)
    {
        _text.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
                _text.Append(", ");
            Write(items[i], PrimaryLevel);
        }
        _text.Append(']');
    }

    private void WriteFeature(FeatureReference reference)
    {
        FeatureTable.TryGet(reference.Name, out var feature);
        var value = feature.Field.GetValue(_features);
        _text.Append(reference.Name).Append('=')
            .Append(feature.IsString ? FormatString((string?)value) : FormatNumber((double)value!));
    }
}
