namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Recursive-descent parser, one method per precedence level:
/// <c>||</c> &lt; <c>&amp;&amp;</c> &lt; <c>!</c> &lt; comparison / <c>in</c> &lt; <c>+ -</c> &lt; <c>* /</c> &lt; unary minus.
/// Binary arithmetic and logical operators are left-associative; comparisons do not chain
/// (<c>a &lt; b &lt; c</c> is rejected rather than silently meaning <c>(a &lt; b) &lt; c</c>).
/// </summary>
internal sealed class Parser
{
    private readonly string _source;
    private readonly List<Token> _tokens;
    private int _index;

    private Parser(string source)
    {
        _source = source;
        _tokens = Lexer.Tokenize(source);
    }

    /// <summary>Parses a complete rule; anything after the expression is an error.</summary>
    public static RuleNode Parse(string source)
    {
        var parser = new Parser(source);
        var node = parser.ParseOr();
        var trailing = parser.Current;
        if (trailing.Kind != TokenKind.EndOfInput)
            throw RuleSyntaxException.At(source, trailing.Position, "Expected end of input", found: trailing.Describe());
        return node;
    }

    private Token Current => _tokens[_index];

    private Token Advance() => _tokens[_index++];

    private Token Expect(TokenKind kind, string text)
    {
        if (Current.Kind != kind)
            throw RuleSyntaxException.At(_source, Current.Position, $"Expected '{text}'", found: Current.Describe());
        return Advance();
    }

    private RuleNode ParseOr()
    {
        var left = ParseAnd();
        while (Current.Kind == TokenKind.OrOr)
        {
            var op = Advance();
            left = new BinaryExpression(BinaryOperator.Or, left, ParseAnd(), op.Position);
        }
        return left;
    }

    private RuleNode ParseAnd()
    {
        var left = ParseNot();
        while (Current.Kind == TokenKind.AndAnd)
        {
            var op = Advance();
            left = new BinaryExpression(BinaryOperator.And, left, ParseNot(), op.Position);
        }
        return left;
    }

    private RuleNode ParseNot()
    {
        if (Current.Kind != TokenKind.Bang)
            return ParseComparison();
        var op = Advance();
        return new UnaryExpression(UnaryOperator.Not, ParseNot(), op.Position);
    }

    private RuleNode ParseComparison()
    {
        var left = ParseAdditive();
        var result = ParseComparisonTail(left);
        if (result is null)
            return left;
        if (ComparisonOperator(Current.Kind) is not null || Current.Kind is TokenKind.In or TokenKind.Not)
            throw RuleSyntaxException.At(_source, Current.Position, $"Comparison operator {Current.Describe()} cannot be chained", "use parentheses");
        return result;
    }

    private RuleNode? ParseComparisonTail(RuleNode left)
    {
        var token = Current;
        if (ComparisonOperator(token.Kind) is { } op)
        {
            Advance();
            return new BinaryExpression(op, left, ParseAdditive(), token.Position);
        }
        if (token.Kind == TokenKind.In)
        {
            Advance();
            return new MembershipExpression(left, ParseList(), false, token.Position);
        }
        if (token.Kind == TokenKind.Not)
        {
            Advance();
            Expect(TokenKind.In, "in");
            return new MembershipExpression(left, ParseList(), true, token.Position);
        }
        return null;
    }

    private static BinaryOperator? ComparisonOperator(TokenKind kind) => kind switch
    {
        TokenKind.EqualEqual => BinaryOperator.Equal,
        TokenKind.BangEqual => BinaryOperator.NotEqual,
        TokenKind.Less => BinaryOperator.Less,
        TokenKind.LessEqual => BinaryOperator.LessEqual,
        TokenKind.Greater => BinaryOperator.Greater,
        TokenKind.GreaterEqual => BinaryOperator.GreaterEqual,
        _ => null,
    };

    /// <summary>A list is literals only (optionally negated numbers), so membership can be compiled to constant comparisons.</summary>
    private List<RuleNode> ParseList()
    {
        Expect(TokenKind.LeftBracket, "[");
        var items = new List<RuleNode>();
        if (Current.Kind == TokenKind.RightBracket)
        {
            Advance();
            return items;
        }
        while (true)
        {
            items.Add(ParseListItem());
            if (Current.Kind == TokenKind.Comma)
            {
                Advance();
                continue;
            }
            Expect(TokenKind.RightBracket, "]");
            return items;
        }
    }

    private RuleNode ParseListItem()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.String:
                Advance();
                return new StringLiteral(token.StringValue!, token.Position);
            case TokenKind.Number:
                Advance();
                return new NumberLiteral(token.NumberValue, token.Position);
            case TokenKind.Minus when _tokens[_index + 1].Kind == TokenKind.Number:
                Advance();
                return new NumberLiteral(-Advance().NumberValue, token.Position);
            default:
                throw RuleSyntaxException.At(_source, token.Position, "Expected a string or number literal in list", found: token.Describe());
        }
    }

    private RuleNode ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = Advance();
            var kind = op.Kind == TokenKind.Plus ? BinaryOperator.Add : BinaryOperator.Subtract;
            left = new BinaryExpression(kind, left, ParseMultiplicative(), op.Position);
        }
        return left;
    }

    private RuleNode ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Current.Kind is TokenKind.Star or TokenKind.Slash)
        {
            var op = Advance();
            var kind = op.Kind == TokenKind.Star ? BinaryOperator.Multiply : BinaryOperator.Divide;
            left = new BinaryExpression(kind, left, ParseUnary(), op.Position);
        }
        return left;
    }

    private RuleNode ParseUnary()
    {
        if (Current.Kind != TokenKind.Minus)
            return ParsePrimary();
        var op = Advance();
        return new UnaryExpression(UnaryOperator.Negate, ParseUnary(), op.Position);
    }

    private RuleNode ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                Advance();
                return new NumberLiteral(token.NumberValue, token.Position);
            case TokenKind.String:
                Advance();
                return new StringLiteral(token.StringValue!, token.Position);
            case TokenKind.True:
            case TokenKind.False:
                Advance();
                return new BooleanLiteral(token.Kind == TokenKind.True, token.Position);
            case TokenKind.Identifier:
                Advance();
                return new FeatureReference(token.Text, token.Position);
            case TokenKind.LeftParen:
                Advance();
                var inner = ParseOr();
                Expect(TokenKind.RightParen, ")");
                return inner;
            default:
                throw RuleSyntaxException.At(_source, token.Position, "Expected an expression", found: token.Describe());
        }
    }
}
