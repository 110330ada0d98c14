using System.Text.Json;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Event type names written by the generator, pre-encoded for the JSON writer; the custom type
/// exercises "custom types allowed and counted".
/// </summary>
internal static class SimulatedEventTypes
{
    public static readonly JsonEncodedText PageView = JsonEncodedText.Encode("page_view");
    public static readonly JsonEncodedText Click = JsonEncodedText.Encode("click");
    public static readonly JsonEncodedText Scroll = JsonEncodedText.Encode("scroll");
    public static readonly JsonEncodedText AddToCart = JsonEncodedText.Encode("add_to_cart");
    public static readonly JsonEncodedText Purchase = JsonEncodedText.Encode("purchase");
    public static readonly JsonEncodedText VideoPlay = JsonEncodedText.Encode("video_play");
    public static readonly JsonEncodedText FormSubmit = JsonEncodedText.Encode("form_submit");
    public static readonly JsonEncodedText Exposure = JsonEncodedText.Encode("exposure");
    public static readonly JsonEncodedText WishlistAdd = JsonEncodedText.Encode("wishlist_add");
}

/// <summary>
/// One simulated event before serialisation. A struct of pre-encoded strings with a single optional
/// property pair keeps the hot path allocation-free (apart from the final byte array) and lets the
/// JSON writer copy bytes instead of escaping and transcoding each string.
/// </summary>
internal struct SimulatedEvent
{
    /// <summary>Per-stream sequence number; rendered into the event id.</summary>
    public long Sequence;
    public UserProfile User;
    public JsonEncodedText Type;
    public long TsMs;
    public JsonEncodedText Page;
    public JsonEncodedText Device;
    /// <summary>Name of the single entry of <c>properties</c>, or null for <c>{}</c>.</summary>
    public JsonEncodedText? PropertyName;
    /// <summary>String value of the property; when null, <see cref="PropertyNumber"/> is written.</summary>
    public JsonEncodedText? PropertyText;
    public long PropertyNumber;
    public decimal? Value;
    public JsonEncodedText? ExperimentId;
    public JsonEncodedText? Variant;
}
