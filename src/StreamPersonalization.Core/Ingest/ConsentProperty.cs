using System.Text.Json;

namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// The decision a <c>consent</c> event carries: <c>properties.personalization</c> is <c>"granted"</c> or <c>true</c>
/// (personalization allowed) or <c>"withdrawn"</c> or <c>false</c>. Anything else makes the event invalid
/// (<c>missing_field</c>): guessing a consent decision would be worse than dead-lettering it.
/// </summary>
public static class ConsentProperty
{
    /// <summary>The dead-letter detail for a consent event without a readable decision.</summary>
    public const string Required = "consent needs properties.personalization: \"granted\" | \"withdrawn\" | true | false";

    /// <summary>True = granted, false = withdrawn, null = absent or unreadable. <paramref name="properties"/> is the raw <c>properties</c> object (may be empty).</summary>
    public static bool? Read(ReadOnlySpan<byte> properties)
    {
        if (properties.IsEmpty) return null;
        var reader = new Utf8JsonReader(properties);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        bool? decision = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isDecision = reader.ValueTextEquals("personalization"u8);
            reader.Read();
            if (isDecision)
            {
                decision = reader.TokenType switch
                {
                    JsonTokenType.True => true,
                    JsonTokenType.False => false,
                    JsonTokenType.String when reader.ValueTextEquals("granted"u8) => true,
                    JsonTokenType.String when reader.ValueTextEquals("withdrawn"u8) => false,
                    _ => null,
                };
            }
            reader.Skip();
        }
        return decision;
    }
}
