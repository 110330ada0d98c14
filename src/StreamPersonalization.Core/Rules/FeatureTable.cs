using System.Reflection;
using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Rules;

/// <summary>A <see cref="UserFeatures"/> field visible to rules.</summary>
public sealed record FeatureInfo(string Name, string Description, FieldInfo Field)
{
    /// <summary>True for string features (which may be null at run time), false for numeric ones.</summary>
    public bool IsString => Field.FieldType == typeof(string);

    internal RuleType Type => IsString ? RuleType.String : RuleType.Number;
}

/// <summary>
/// The rule-visible features, discovered once by reflection over the <see cref="FeatureAttribute"/>s
/// on <see cref="UserFeatures"/>, so adding a field there makes it usable in rules with no other change.
/// </summary>
public static class FeatureTable
{
    private static readonly Dictionary<string, FeatureInfo> ByName = Build();

    /// <summary>All features in declaration order.</summary>
    public static IReadOnlyList<FeatureInfo> All { get; } =
        ByName.Values.OrderBy(f => f.Field.MetadataToken).ToArray();

    /// <summary>Looks a feature up by its snake_case rule name.</summary>
    public static bool TryGet(string name, out FeatureInfo feature) => ByName.TryGetValue(name, out feature!);

    /// <summary>The closest feature name within a small edit distance, for "did you mean" hints.</summary>
    public static string? Suggest(string name)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in ByName.Keys)
        {
            var distance = EditDistance(name, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= Math.Max(2, name.Length / 3) ? best : null;
    }

    private static Dictionary<string, FeatureInfo> Build()
    {
        var table = new Dictionary<string, FeatureInfo>(StringComparer.Ordinal);
        foreach (var field in typeof(UserFeatures).GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            var attribute = field.GetCustomAttribute<FeatureAttribute>();
            if (attribute is null)
                continue;
            if (field.FieldType != typeof(double) && field.FieldType != typeof(string))
                throw new InvalidOperationException($"Feature '{attribute.Name}' has unsupported type {field.FieldType}; rules support double and string.");
            table.Add(attribute.Name, new FeatureInfo(attribute.Name, attribute.Description, field));
        }
        return table;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
