namespace StreamPersonalization.Core.Rules;

/// <summary>Lexical categories of the rule language.</summary>
internal enum TokenKind
{
    EndOfInput,
    Number,
    String,
    Identifier,
    True,
    False,
    In,
    Not,
    OrOr,
    AndAnd,
    Bang,
    EqualEqual,
    BangEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Star,
    Slash,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
}

/// <summary>
/// One token with its source offset; <see cref="Text"/> is the raw lexeme used in error messages,
/// <see cref="NumberValue"/>/<see cref="StringValue"/> hold decoded literal values.
/// </summary>
internal readonly record struct Token(TokenKind Kind, int Position, string Text, double NumberValue = 0, string? StringValue = null)
{
    /// <summary>How the token is named in "but found ..." messages.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.EndOfInput => "end of input",
        TokenKind.Number => $"number {Text}",
        TokenKind.String => $"string {Text}",
        TokenKind.Identifier => $"identifier '{Text}'",
        _ => $"'{Text}'",
    };
}
