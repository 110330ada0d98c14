using StreamPersonalization.Core.Rules;

namespace StreamPersonalization.Core.Tests.Rules;

public class RuleErrorTests
{
    [Theory]
    // unknown features, with and without a suggestion
    [InlineData("sesions_7d >= 1", 0, "Unknown feature 'sesions_7d' at position 0; did you mean 'sessions_7d'?")]
    [InlineData("engagement_score >= 20 && sesions_7d >= 1", 26, "Unknown feature 'sesions_7d' at position 26; did you mean 'sessions_7d'?")]
    [InlineData("zzz > 1", 0, "Unknown feature 'zzz' at position 0")]
    // syntax
    [InlineData("(sessions_7d >= 1", 17, "Expected ')' at position 17 but found end of input")]
    [InlineData("sessions_7d >= 1 )", 17, "Expected end of input at position 17 but found ')'")]
    [InlineData("sessions_7d >= 1 clicks_7d", 17, "Expected end of input at position 17 but found identifier 'clicks_7d'")]
    [InlineData("", 0, "Expected an expression at position 0 but found end of input")]
    [InlineData("sessions_7d >= 1 &&", 19, "Expected an expression at position 19 but found end of input")]
    [InlineData("country not ['DE']", 12, "Expected 'in' at position 12 but found '['")]
    [InlineData("country in 'DE'", 11, "Expected '[' at position 11 but found string 'DE'")]
    [InlineData("country in ['DE' 'FR']", 17, "Expected ']' at position 17 but found string 'FR'")]
    [InlineData("sessions_7d in [clicks_7d]", 16, "Expected a string or number literal in list at position 16 but found identifier 'clicks_7d'")]
    [InlineData("1 < 2 < 3", 6, "Comparison operator '<' cannot be chained at position 6; use parentheses")]
    // tokens
    [InlineData("sessions_7d # 1", 12, "Unexpected character '#' at position 12")]
    [InlineData("sessions_7d >= 1 & clicks_7d >= 1", 17, "Unexpected character '&' at position 17; did you mean '&&'?")]
    [InlineData("sessions_7d = 1", 12, "Unexpected character '=' at position 12; did you mean '=='?")]
    [InlineData("country == 'DE", 11, "Unterminated string literal at position 11")]
    [InlineData("country == \"DE\\\"", 11, "Unterminated string literal at position 11")]
    [InlineData("country == 'D\\q'", 13, "Invalid escape sequence '\\q' at position 13")]
    [InlineData("sessions_7d >= 1e", 15, "Malformed number '1e' at position 15; expected digits after the exponent")]
    [InlineData("sessions_7d >= 12abc", 15, "Malformed number '12a' at position 15")]
    [InlineData("sessions_7d >= 1e999", 15, "Number '1e999' is out of range at position 15")]
    // types
    [InlineData("device < 'x'", 7, "Operator '<' cannot be applied to strings at position 7; only numbers are ordered")]
    [InlineData("true >= false", 5, "Operator '>=' cannot be applied to booleans at position 5; only numbers are ordered")]
    [InlineData("sessions_7d == 'x'", 12, "Operator '==' cannot compare a number with a string at position 12")]
    [InlineData("sessions_7d + device > 1", 14, "Operator '+' requires number operands but got a string at position 14")]
    [InlineData("true && 1", 8, "Operator '&&' requires boolean operands but got a number at position 8")]
    [InlineData("sessions_7d > 1 || clicks_7d + 1", 19, "Operator '||' requires boolean operands but got a number at position 19")]
    [InlineData("!sessions_7d", 0, "Operator '!' requires a boolean operand but got a number at position 0")]
    [InlineData("-device == 'x'", 0, "Operator '-' requires a number operand but got a string at position 0")]
    [InlineData("sessions_7d in ['a']", 16, "List item is a string but the value tested is a number at position 16")]
    [InlineData("(1 < 2) in [1]", 8, "Operator 'in' requires a number or string on its left but got a boolean at position 8")]
    [InlineData("sessions_7d + 1", 0, "A rule must be a boolean expression but this is a number at position 0")]
    [InlineData("country", 0, "A rule must be a boolean expression but this is a string at position 0")]
    public void Compile_InvalidRule_ThrowsWithPositionAndMessage(string source, int position, string message)
    {
        var error = Assert.Throws<RuleSyntaxException>(() => RuleCompiler.Compile(source));
        Assert.Equal(message, error.Message);
        Assert.Equal(position, error.Position);
    }

    [Fact]
    public void Compile_ErrorOnSecondLine_ReportsLineAndColumn()
    {
        var error = Assert.Throws<RuleSyntaxException>(() => RuleCompiler.Compile("sessions_7d >= 1 &&\n  bogus > 1"));
        Assert.Equal(22, error.Position);
        Assert.Equal(2, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Equal("Unknown feature 'bogus'", error.Reason);
    }
}
