using System.Globalization;
using System.Reflection;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Rules;

namespace StreamPersonalization.Core.Tests.Rules;

/// <summary>
/// Differential test: random well-typed expression trees are printed to source with minimal parentheses,
/// compiled, and compared against a small tree-walking evaluator written here independently of the
/// compiler. Printing with minimal parentheses makes the property exercise precedence and associativity.
/// </summary>
public class RulePropertyTests
{
    private abstract record E;
    private sealed record Num(double Value) : E;
    private sealed record Str(string Value) : E;
    private sealed record Bool(bool Value) : E;
    private sealed record NumFeature(string Name) : E;
    private sealed record StrFeature(string Name) : E;
    private sealed record Neg(E Operand) : E;
    private sealed record Not(E Operand) : E;
    private sealed record Bin(string Op, E Left, E Right) : E;
    private sealed record In(E Value, object[] Items, bool Negated) : E;

    /// <summary>Feature fields by rule name, read independently of the library's FeatureTable.</summary>
    private static readonly Dictionary<string, FieldInfo> Fields = typeof(UserFeatures)
        .GetFields()
        .Where(f => f.GetCustomAttribute<FeatureAttribute>() is not null)
        .ToDictionary(f => f.GetCustomAttribute<FeatureAttribute>()!.Name);

    private static readonly string[] NumberFeatures = Fields.Where(p => p.Value.FieldType == typeof(double)).Select(p => p.Key).ToArray();
    private static readonly string[] StringFeatures = Fields.Where(p => p.Value.FieldType == typeof(string)).Select(p => p.Key).ToArray();
    private static readonly double[] Literals = [0, 1, 2, 3, 0.5, 10, 1000, 0.25, 7];
    private static readonly double[] FeatureNumbers = [0, 1, 2, 3, -1, 0.5, 100, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
    private static readonly string[] StringValues = ["DE", "FR", "mobile", "", "it's", "a\"b", "back\\slash"];
    private static readonly string?[] FeatureStrings = [null, "DE", "FR", "mobile", "", "it's"];

    private static Gen<E> NumberLeaf() => Gen.OneOf(
        Gen.Elements(Literals).Select(v => (E)new Num(v)),
        Gen.Elements(NumberFeatures).Select(n => (E)new NumFeature(n)));

    private static Gen<E> StringLeaf() => Gen.OneOf(
        Gen.Elements(StringValues).Select(v => (E)new Str(v)),
        Gen.Elements(StringFeatures).Select(n => (E)new StrFeature(n)));

    private static Gen<E> NumberExpr(int depth)
    {
        if (depth <= 0)
            return NumberLeaf();
        var sub = NumberExpr(depth - 1);
        return Gen.Frequency(
            (3, NumberLeaf()),
            (1, sub.Select(e => (E)new Neg(e))),
            (4, from op in Gen.Elements("+", "-", "*", "/") from l in sub from r in sub select (E)new Bin(op, l, r)));
    }

    private static Gen<E> BoolExpr(int depth)
    {
        var numberComparison = from op in Gen.Elements("==", "!=", "<", "<=", ">", ">=")
                               from l in NumberExpr(Math.Min(depth, 2))
                               from r in NumberExpr(Math.Min(depth, 2))
                               select (E)new Bin(op, l, r);
        var stringComparison = from op in Gen.Elements("==", "!=") from l in StringLeaf() from r in StringLeaf() select (E)new Bin(op, l, r);
        var numberIn = from v in NumberExpr(Math.Min(depth, 1))
                       from items in Gen.Elements(Literals.Append(-1).ToArray()).ArrayOf()
                       from negated in Gen.Elements(true, false)
                       select (E)new In(v, items.Cast<object>().ToArray(), negated);
        var stringIn = from v in StringLeaf()
                       from items in Gen.Elements(StringValues).ArrayOf()
                       from negated in Gen.Elements(true, false)
                       select (E)new In(v, items.Cast<object>().ToArray(), negated);
        var leaf = Gen.Frequency(
            (1, Gen.Elements(true, false).Select(b => (E)new Bool(b))),
            (4, numberComparison),
            (2, stringComparison),
            (1, numberIn),
            (1, stringIn));
        if (depth <= 0)
            return leaf;
        var sub = BoolExpr(depth - 1);
        return Gen.Frequency(
            (2, leaf),
            (1, sub.Select(e => (E)new Not(e))),
            (4, from op in Gen.Elements("&&", "||") from l in sub from r in sub select (E)new Bin(op, l, r)),
            (1, from op in Gen.Elements("==", "!=") from l in sub from r in sub select (E)new Bin(op, l, r)));
    }

    private static Gen<UserFeatures> FeatureVector()
    {
        var numbers = Gen.Elements(FeatureNumbers).ArrayOf(NumberFeatures.Length);
        var strings = Gen.Elements(FeatureStrings).ArrayOf(StringFeatures.Length);
        return from n in numbers
               from s in strings
               select Build(n, s);
    }

    private static UserFeatures Build(double[] numbers, string?[] strings)
    {
        object boxed = new UserFeatures();
        for (var i = 0; i < NumberFeatures.Length; i++)
            Fields[NumberFeatures[i]].SetValue(boxed, numbers[i]);
        for (var i = 0; i < StringFeatures.Length; i++)
            Fields[StringFeatures[i]].SetValue(boxed, strings[i]);
        return (UserFeatures)boxed;
    }

    // ---- printer: minimal parentheses by precedence level ----

    private static int Level(E e) => e switch
    {
        Bin { Op: "||" } => 1,
        Bin { Op: "&&" } => 2,
        Not => 3,
        Bin { Op: "+" or "-" } => 5,
        Bin { Op: "*" or "/" } => 6,
        Bin or In => 4,
        Neg => 7,
        _ => 8,
    };

    private static string Print(E e, int minLevel = 0)
    {
        var level = Level(e);
        var text = e switch
        {
            Num n => n.Value.ToString("R", CultureInfo.InvariantCulture),
            Str s => Quote(s.Value),
            Bool b => b.Value ? "true" : "false",
            NumFeature f => f.Name,
            StrFeature f => f.Name,
            Neg n => "-" + Print(n.Operand, 7),
            Not n => "!" + Print(n.Operand, 3),
            Bin { Op: "==" or "!=" or "<" or "<=" or ">" or ">=" } b => $"{Print(b.Left, 5)} {b.Op} {Print(b.Right, 5)}",
            Bin b => $"{Print(b.Left, level)} {b.Op} {Print(b.Right, level + 1)}",
            In i => $"{Print(i.Value, 5)} {(i.Negated ? "not in" : "in")} [{string.Join(", ", i.Items.Select(PrintItem))}]",
            _ => throw new InvalidOperationException(),
        };
        return level < minLevel ? "(" + text + ")" : text;
    }

    private static string PrintItem(object item) =>
        item is string s ? Quote(s) : ((double)item).ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string value)
    {
        var quote = value.Length % 2 == 0 ? '"' : '\'';
        var builder = new StringBuilder().Append(quote);
        foreach (var c in value)
        {
            if (c == '\\' || c == quote)
                builder.Append('\\');
            builder.Append(c);
        }
        return builder.Append(quote).ToString();
    }

    // ---- reference evaluator ----

    private static object? Eval(E e, UserFeatures f) => e switch
    {
        Num n => n.Value,
        Str s => s.Value,
        Bool b => b.Value,
        NumFeature n => (double)Fields[n.Name].GetValue(f)!,
        StrFeature s => (string?)Fields[s.Name].GetValue(f),
        Neg n => -(double)Eval(n.Operand, f)!,
        Not n => !(bool)Eval(n.Operand, f)!,
        Bin { Op: "&&" } b => (bool)Eval(b.Left, f)! && (bool)Eval(b.Right, f)!,
        Bin { Op: "||" } b => (bool)Eval(b.Left, f)! || (bool)Eval(b.Right, f)!,
        Bin b => EvalBinary(b.Op, Eval(b.Left, f), Eval(b.Right, f)),
        In i => i.Negated != i.Items.Any(item => Equal(Eval(i.Value, f), item)),
        _ => throw new InvalidOperationException(),
    };

    private static object EvalBinary(string op, object? l, object? r)
    {
        if (op is "+" or "-" or "*" or "/")
        {
            double a = (double)l!, b = (double)r!;
            return op switch { "+" => a + b, "-" => a - b, "*" => a * b, _ => a / b };
        }
        if (op == "==")
            return Equal(l, r);
        if (op == "!=")
            return l is double x && r is double y ? !double.IsNaN(x) && !double.IsNaN(y) && x != y : !Equal(l, r);
        var (p, q) = ((double)l!, (double)r!);
        if (double.IsNaN(p) || double.IsNaN(q))
            return false;
        return op switch { "<" => p < q, "<=" => p <= q, ">" => p > q, _ => p >= q };
    }

    private static bool Equal(object? l, object? r) => (l, r) switch
    {
        (double a, double b) => !double.IsNaN(a) && !double.IsNaN(b) && a == b,
        (bool a, bool b) => a == b,
        (null, null) => true,
        (string a, string b) => string.CompareOrdinal(a, b) == 0,
        _ => false,
    };

    [Fact]
    public void CompiledRule_MatchesReferenceEvaluator_ForRandomExpressions()
    {
        var cases = from depth in Gen.Choose(0, 4)
                    from expression in BoolExpr(depth)
                    from vectors in FeatureVector().ArrayOf(8)
                    select (expression, vectors);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var source = Print(c.expression);
            var rule = RuleCompiler.Compile(source);
            var fused = RuleCompiler.CompileMask([RuleCompiler.Compile("true"), rule]);
            foreach (var features in c.vectors)
            {
                var expected = (bool)Eval(c.expression, features)!;
                if (rule.Evaluate(features) != expected)
                    throw new Exception($"'{source}' gave {!expected}, expected {expected} for {rule.Explain(features)}");
                if (fused(in features) != (expected ? 3UL : 1UL))
                    throw new Exception($"'{source}' fused into a mask gave {fused(in features)}, expected {expected}");
            }
        });
        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public void Printer_RoundTripsMinimalParentheses()
    {
        var e = new Bin("-", new Num(1), new Bin("-", new Num(2), new Num(3)));
        Assert.Equal("1 - (2 - 3)", Print(e));
        Assert.True(RuleCompiler.Compile(Print(e) + " == 2").Evaluate(default));
    }
}
