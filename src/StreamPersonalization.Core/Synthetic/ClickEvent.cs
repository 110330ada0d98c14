namespace StreamPersonalization.Core.Synthetic;

/// <summary>Event type names written by the generator; the custom type exercises "custom types allowed and counted".</summary>
internal static class EventTypes
{
    public const string PageView = "page_view";
    public const string Click = "click";
    public const string Scroll = "scroll";
    public const string AddToCart = "add_to_cart";
    public const string Purchase = "purchase";
    public const string VideoPlay = "video_play";
    public const string FormSubmit = "form_submit";
    public const string Exposure = "exposure";
    public const string WishlistAdd = "wishlist_add";
}

/// <summary>
/// One simulated event before serialisation. A struct with a single optional property pair keeps the
/// hot path allocation-free apart from the final byte array.
/// </summary>
internal struct ClickEvent
{
    /// <summary>Per-stream sequence number; rendered into the event id.</summary>
    public long Sequence;
    public UserProfile User;
    public string Type;
    public long TsMs;
    public string Page;
    public string Device;
    /// <summary>Name of the single entry of <c>properties</c>, or null for <c>{}</c>.</summary>
    public string? PropertyName;
    /// <summary>String value of the property; when null, <see cref="PropertyNumber"/> is written.</summary>
    public string? PropertyText;
    public long PropertyNumber;
    public decimal? Value;
    public string? ExperimentId;
    public string? Variant;
}
