using System.Globalization;

namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>JSON kind of a property value. Objects and arrays are <see cref="Structured"/> and are never kept.</summary>
public enum PropertyKind : byte { Null, String, Number, Boolean, Structured }

/// <summary>A scalar property value as decoded from the event's <c>properties</c> object.</summary>
public readonly record struct PropertyValue(PropertyKind Kind, string? Text, double Number)
{
    public static PropertyValue Null => default;

    /// <summary>An object or array (its content is not decoded).</summary>
    public static PropertyValue Structured => new(PropertyKind.Structured, null, 0);

    public static PropertyValue String(string text) => new(PropertyKind.String, text, 0);

    public static PropertyValue Of(double number) => new(PropertyKind.Number, null, number);

    public static PropertyValue Of(bool flag) => new(PropertyKind.Boolean, null, flag ? 1 : 0);

    public override string ToString() => Kind switch
    {
        PropertyKind.String => $"\"{Text}\"",
        PropertyKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        PropertyKind.Boolean => Number != 0 ? "true" : "false",
        PropertyKind.Structured => "{…}",
        _ => "null",
    };
}

/// <summary>One top-level entry of an event's <c>properties</c> object.</summary>
public readonly record struct EventProperty(string Name, PropertyValue Value)
{
    public override string ToString() => $"{Name}={Value}";
}
