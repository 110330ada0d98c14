using System.Globalization;
using System.Text;

namespace StreamPersonalization.Core.Rules;

/// <summary>
/// Splits rule text into tokens. Kept separate from the parser so that character-level concerns
/// (escapes, number formats, stray characters) are reported with exact positions in one place.
/// </summary>
internal sealed class Lexer
{
    private readonly string _source;
    private int _pos;

    private Lexer(string source) => _source = source;

    /// <summary>Tokenizes the whole source; the list always ends with an <see cref="TokenKind.EndOfInput"/> token.</summary>
    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        var tokens = new List<Token>();
        Token token;
        do
        {
            token = lexer.Next();
            tokens.Add(token);
        } while (token.Kind != TokenKind.EndOfInput);
        return tokens;
    }

    private Token Next()
    {
        while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
            _pos++;
        if (_pos >= _source.Length)
            return new Token(TokenKind.EndOfInput, _source.Length, "");

        var start = _pos;
        var c = _source[_pos];
        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _source.Length && char.IsAsciiDigit(_source[_pos + 1])))
            return LexNumber(start);
        if (c == '"' || c == '\'')
            return LexString(start, c);
        if (char.IsAsciiLetter(c) || c == '_')
            return LexWord(start);

        var next = _pos + 1 < _source.Length ? _source[_pos + 1] : '\0';
        switch (c)
        {
            case '|' when next == '|': return Op(TokenKind.OrOr, 2);
            case '&' when next == '&': return Op(TokenKind.AndAnd, 2);
            case '=' when next == '=': return Op(TokenKind.EqualEqual, 2);
            case '!' when next == '=': return Op(TokenKind.BangEqual, 2);
            case '<' when next == '=': return Op(TokenKind.LessEqual, 2);
            case '>' when next == '=': return Op(TokenKind.GreaterEqual, 2);
            case '!': return Op(TokenKind.Bang, 1);
            case '<': return Op(TokenKind.Less, 1);
            case '>': return Op(TokenKind.Greater, 1);
            case '+': return Op(TokenKind.Plus, 1);
            case '-': return Op(TokenKind.Minus, 1);
            case '*': return Op(TokenKind.Star, 1);
            case '/': return Op(TokenKind.Slash, 1);
            case '(': return Op(TokenKind.LeftParen, 1);
            case ')': return Op(TokenKind.RightParen, 1);
            case '[': return Op(TokenKind.LeftBracket, 1);
            case ']': return Op(TokenKind.RightBracket, 1);
            case ',': return Op(TokenKind.Comma, 1);
            case '|': throw RuleSyntaxException.At(_source, start, "Unexpected character '|'", "did you mean '||'?");
            case '&': throw RuleSyntaxException.At(_source, start, "Unexpected character '&'", "did you mean '&&'?");
            case '=': throw RuleSyntaxException.At(_source, start, "Unexpected character '='", "did you mean '=='?");
            default: throw RuleSyntaxException.At(_source, start, $"Unexpected character '{c}'");
        }
    }

    private Token Op(TokenKind kind, int length)
    {
        var token = new Token(kind, _pos, _source.Substring(_pos, length));
        _pos += length;
        return token;
    }

    private Token LexNumber(int start)
    {
        SkipDigits();
        if (Peek() == '.')
        {
            _pos++;
            SkipDigits();
        }
        if (Peek() is 'e' or 'E')
        {
            _pos++;
            if (Peek() is '+' or '-')
                _pos++;
            if (!char.IsAsciiDigit(Peek()))
                throw RuleSyntaxException.At(_source, start, $"Malformed number '{_source[start.._pos]}'", "expected digits after the exponent");
            SkipDigits();
        }
        if (char.IsAsciiLetter(Peek()) || Peek() == '_' || Peek() == '.')
            throw RuleSyntaxException.At(_source, start, $"Malformed number '{_source[start..(_pos + 1)]}'");

        var text = _source[start.._pos];
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value))
            throw RuleSyntaxException.At(_source, start, $"Number '{text}' is out of range");
        return new Token(TokenKind.Number, start, text, value);
    }

    private void SkipDigits()
    {
        while (char.IsAsciiDigit(Peek()))
            _pos++;
    }

    private char Peek() => _pos < _source.Length ? _source[_pos] : '\0';

    private Token LexString(int start, char quote)
    {
        _pos++;
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= _source.Length)
                throw RuleSyntaxException.At(_source, start, "Unterminated string literal");
            var c = _source[_pos];
            if (c == quote)
            {
                _pos++;
                return new Token(TokenKind.String, start, _source[start.._pos], StringValue: value.ToString());
            }
            if (c == '\\')
            {
                value.Append(LexEscape());
                continue;
            }
            value.Append(c);
            _pos++;
        }
    }

    private char LexEscape()
    {
        var escapeStart = _pos;
        _pos++;
        if (_pos >= _source.Length)
            throw RuleSyntaxException.At(_source, escapeStart, "Unterminated escape sequence");
        var c = _source[_pos++];
        switch (c)
        {
            case '\\': return '\\';
            case '"': return '"';
            case '\'': return '\'';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '0': return '\0';
            case 'u':
                if (_pos + 4 <= _source.Length
                    && ushort.TryParse(_source.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    _pos += 4;
                    return (char)code;
                }
                throw RuleSyntaxException.At(_source, escapeStart, "Invalid unicode escape", "expected \\u followed by 4 hex digits");
            default:
                throw RuleSyntaxException.At(_source, escapeStart, $"Invalid escape sequence '\\{c}'");
        }
    }

    private Token LexWord(int start)
    {
        while (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_')
            _pos++;
        var text = _source[start.._pos];
        var kind = text switch
        {
            "true" => TokenKind.True,
            "false" => TokenKind.False,
            "in" => TokenKind.In,
            "not" => TokenKind.Not,
            _ => TokenKind.Identifier,
        };
        return new Token(kind, start, text);
    }
}
