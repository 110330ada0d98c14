namespace StreamPersonalization.Core.Events;

/// <summary>The standard clickstream event types. Anything else is <see cref="Custom"/> (allowed and counted).</summary>
public enum EventType : byte
{
    Custom = 0,
    PageView,
    Click,
    Scroll,
    AddToCart,
    Purchase,
    VideoPlay,
    FormSubmit,
    Exposure,
    Conversion,
    Consent,
    Forget,
}

public static class EventTypes
{
    /// <summary>Number of enum members; sized arrays indexed by <see cref="EventType"/>.</summary>
    public const int Count = (int)EventType.Forget + 1;

    /// <summary>The wire name of a standard type ("custom" for <see cref="EventType.Custom"/>).</summary>
    public static string WireName(this EventType type) => type switch
    {
        EventType.PageView => "page_view",
        EventType.Click => "click",
        EventType.Scroll => "scroll",
        EventType.AddToCart => "add_to_cart",
        EventType.Purchase => "purchase",
        EventType.VideoPlay => "video_play",
        EventType.FormSubmit => "form_submit",
        EventType.Exposure => "exposure",
        EventType.Conversion => "conversion",
        EventType.Consent => "consent",
        EventType.Forget => "forget",
        _ => "custom",
    };

    /// <summary>Maps a wire name to its type without allocating; unknown names are <see cref="EventType.Custom"/>.</summary>
    public static EventType Parse(ReadOnlySpan<byte> utf8) => utf8.Length switch
    {
        5 when utf8.SequenceEqual("click"u8) => EventType.Click,
        6 when utf8.SequenceEqual("scroll"u8) => EventType.Scroll,
        6 when utf8.SequenceEqual("forget"u8) => EventType.Forget,
        7 when utf8.SequenceEqual("consent"u8) => EventType.Consent,
        8 when utf8.SequenceEqual("purchase"u8) => EventType.Purchase,
        8 when utf8.SequenceEqual("exposure"u8) => EventType.Exposure,
        9 when utf8.SequenceEqual("page_view"u8) => EventType.PageView,
        10 when utf8.SequenceEqual("video_play"u8) => EventType.VideoPlay,
        10 when utf8.SequenceEqual("conversion"u8) => EventType.Conversion,
        11 when utf8.SequenceEqual("add_to_cart"u8) => EventType.AddToCart,
        11 when utf8.SequenceEqual("form_submit"u8) => EventType.FormSubmit,
        _ => EventType.Custom,
    };

    public static EventType Parse(string name) => Parse(System.Text.Encoding.UTF8.GetBytes(name));
}
