namespace StreamPersonalization.Core.Rules;

/// <summary>The three value types of the rule language; there are no implicit conversions between them.</summary>
internal enum RuleType { Number, String, Boolean }

internal static class RuleTypeNames
{
    public static string Name(this RuleType type) => type switch
    {
        RuleType.Number => "number",
        RuleType.String => "string",
        _ => "boolean",
    };
}
