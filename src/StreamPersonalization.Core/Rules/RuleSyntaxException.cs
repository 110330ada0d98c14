namespace StreamPersonalization.Core.Rules;

/// <summary>
/// A rule failed to lex, parse or type-check. Carries the 0-based character offset (and 1-based
/// line/column) so tooling and catalog errors can point at the exact spot in the rule text.
/// </summary>
public sealed class RuleSyntaxException : Exception
{
    public RuleSyntaxException(string message, string reason, int position, int line, int column)
        : base(message)
    {
        Reason = reason;
        Position = position;
        Line = line;
        Column = column;
    }

    /// <summary>The error without its location, e.g. <c>Unknown feature 'x'</c>.</summary>
    public string Reason { get; }

    /// <summary>0-based character offset into the rule source.</summary>
    public int Position { get; }

    /// <summary>1-based line of <see cref="Position"/>.</summary>
    public int Line { get; }

    /// <summary>1-based column of <see cref="Position"/>.</summary>
    public int Column { get; }

    /// <summary>
    /// Builds the exception with the standard message shape
    /// <c>{reason} at position {n}[ but found {found}][; {hint}]</c>, so all rule errors read the same way.
    /// </summary>
    internal static RuleSyntaxException At(string source, int position, string reason, string? hint = null, string? found = null)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position && i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        var foundText = found is null ? "" : $" but found {found}";
        var message = $"{reason} at position {position}{foundText}" + (hint is null ? "" : "; " + hint);
        return new RuleSyntaxException(message, reason + foundText, position, line, position - lineStart + 1);
    }
}
