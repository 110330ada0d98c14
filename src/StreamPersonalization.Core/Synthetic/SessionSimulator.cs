using System.Text.Json;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Produces a user's next event and schedules the one after it. Sessions are a small Markov chain
/// over the shop funnel (page_view → click/scroll → add_to_cart → purchase) so purchases can only
/// follow a non-empty cart, which is what gives realistic drop-off and keeps purchases ≤ carts.
/// </summary>
internal sealed class SessionSimulator
{
    /// <summary>Floor of the gap between sessions: twice the consumer's default 30-minute inactivity gap.</summary>
    public const long MinSessionGapMs = 60 * 60_000;
    /// <summary>Ceiling of a within-session gap: far below the 30-minute inactivity gap.</summary>
    public const long MaxInterEventMs = 10 * 60_000;
    private const long MinInterEventMs = 200;
    private const int MaxEventsPerSession = 1_000;
    private const double ExposureShareOfSessions = 0.5;
    private const double TreatmentPurchaseLift = 1.25;

    private static readonly JsonEncodedText[] ExternalReferrers = Encode("search", "direct", "social", "email", "ads");
    private static readonly JsonEncodedText[] ClickTargets = Encode("product_card", "nav", "cta", "banner", "filter");
    private static readonly JsonEncodedText[] Forms = Encode("newsletter", "contact", "review");
    private static readonly JsonEncodedText Referrer = JsonEncodedText.Encode("referrer");
    private static readonly JsonEncodedText Internal = JsonEncodedText.Encode("internal");
    private static readonly JsonEncodedText Target = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText DepthPct = JsonEncodedText.Encode("depth_pct");
    private static readonly JsonEncodedText VideoId = JsonEncodedText.Encode("video_id");
    private static readonly JsonEncodedText Form = JsonEncodedText.Encode("form");
    private static readonly JsonEncodedText Sku = JsonEncodedText.Encode("sku");
    private static readonly JsonEncodedText Items = JsonEncodedText.Encode("items");
    private static readonly JsonEncodedText Search = JsonEncodedText.Encode("/search");
    private static readonly JsonEncodedText Checkout = JsonEncodedText.Encode("/checkout");

    private readonly ClickstreamGeneratorOptions _options;
    private readonly DeterministicRandom _rng;
    private readonly ProductCatalog _catalog;
    private readonly WeightedTable<JsonEncodedText> _devices;
    private readonly double _meanInterEventMs;

    public SessionSimulator(ClickstreamGeneratorOptions options, DeterministicRandom rng, ProductCatalog catalog)
    {
        _options = options;
        _rng = rng;
        _catalog = catalog;
        _devices = UserPopulation.Table(options.Devices);
        _meanInterEventMs = options.MeanInterEventSeconds * 1000;
    }

    /// <summary>Builds the event at <see cref="SimulatedUser.NextEventMs"/> and advances the user's clock.</summary>
    public SimulatedEvent NextEvent(SimulatedUser user, long sequence)
    {
        if (user.RemainingEvents == 0) StartSession(user);

        var ev = new SimulatedEvent
        {
            Sequence = sequence,
            User = user.Profile,
            TsMs = user.NextEventMs,
            Device = user.SessionDevice,
        };
        if (user.EventsInSession == 0) EntryPageView(user, ref ev);
        else if (user.EventsInSession == 1 && user.ExposurePending) Exposure(user, ref ev);
        else FunnelStep(user, ref ev);

        user.EventsInSession++;
        user.RemainingEvents--;
        long gap = user.RemainingEvents > 0
            ? Math.Clamp((long)_rng.Exponential(_meanInterEventMs), MinInterEventMs, MaxInterEventMs)
            : MinSessionGapMs + (long)_rng.Exponential(user.Profile.MeanSessionGapMs);
        user.NextEventMs = ev.TsMs + gap;
        return ev;
    }

    private void StartSession(SimulatedUser user)
    {
        user.RemainingEvents = _rng.Geometric(_options.MeanEventsPerSession, MaxEventsPerSession);
        user.EventsInSession = 0;
        user.SessionDevice = _rng.Chance(_options.DeviceSwitchShare) ? _devices.Pick(_rng) : user.Profile.PrimaryDevice;
        user.CartItems = 0; // carts left behind in an earlier session count as abandoned
        user.CartTotal = 0;
        user.CurrentProduct = -1;
        user.ExposurePending = user.Profile.Variant is not null && _rng.Chance(ExposureShareOfSessions);
    }

    private void EntryPageView(SimulatedUser user, ref SimulatedEvent ev)
    {
        double u = _rng.NextDouble();
        if (u < 0.30) GoTo(user, UserPopulation.Home, -1);
        else if (u < 0.70) GoToProduct(user);
        else if (u < 0.90) GoTo(user, _catalog.CategoryPages[ProductCatalog.PickCategory(_rng)], -1);
        else GoTo(user, Search, -1);
        ev.Type = SimulatedEventTypes.PageView;
        ev.Page = user.CurrentPage;
        ev.PropertyName = Referrer;
        ev.PropertyText = ExternalReferrers[_rng.NextInt(ExternalReferrers.Length)];
    }

    private void Exposure(SimulatedUser user, ref SimulatedEvent ev)
    {
        ev.Type = SimulatedEventTypes.Exposure;
        ev.Page = user.CurrentPage;
        ev.ExperimentId = UserPopulation.ExperimentIdJson;
        ev.Variant = user.Profile.Variant;
    }

    private void FunnelStep(SimulatedUser user, ref SimulatedEvent ev)
    {
        bool onProduct = user.CurrentProduct >= 0;
        bool hasCart = user.CartItems > 0;
        double purchaseWeight = hasCart ? 14 * (user.Profile.IsTreatment ? TreatmentPurchaseLift : 1) : 0;
        double cartWeight = onProduct ? 12 : 0;
        double wishlistWeight = onProduct ? 3 : 0;
        const double pageView = 30, click = 22, scroll = 16, video = 6, form = 4;
        double total = pageView + click + scroll + video + form + cartWeight + wishlistWeight + purchaseWeight;
        double r = _rng.NextDouble() * total;

        ev.Page = user.CurrentPage;
        if ((r -= pageView) < 0) NavigatingPageView(user, ref ev);
        else if ((r -= click) < 0) Property(ref ev, SimulatedEventTypes.Click, Target, ClickTargets[_rng.NextInt(ClickTargets.Length)]);
        else if ((r -= scroll) < 0) Number(ref ev, SimulatedEventTypes.Scroll, DepthPct, 25 * (1 + _rng.NextInt(4)));
        else if ((r -= video) < 0) Property(ref ev, SimulatedEventTypes.VideoPlay, VideoId, _catalog.Videos[_rng.NextInt(ProductCatalog.VideoCount)]);
        else if ((r -= form) < 0) Property(ref ev, SimulatedEventTypes.FormSubmit, Form, Forms[_rng.NextInt(Forms.Length)]);
        else if ((r -= cartWeight) < 0)
        {
            user.CartItems++;
            user.CartTotal += _catalog.Prices[user.CurrentProduct];
            Property(ref ev, SimulatedEventTypes.AddToCart, Sku, _catalog.Skus[user.CurrentProduct]);
        }
        else if ((r -= wishlistWeight) < 0) Property(ref ev, SimulatedEventTypes.WishlistAdd, Sku, _catalog.Skus[user.CurrentProduct]);
        else Purchase(user, ref ev);
    }

    private void NavigatingPageView(SimulatedUser user, ref SimulatedEvent ev)
    {
        double u = _rng.NextDouble();
        if (u < 0.55) GoToProduct(user);
        else if (u < 0.80) GoTo(user, _catalog.CategoryPages[ProductCatalog.PickCategory(_rng)], -1);
        else if (u < 0.90) GoTo(user, UserPopulation.Home, -1);
        else GoTo(user, Search, -1);
        ev.Page = user.CurrentPage;
        Property(ref ev, SimulatedEventTypes.PageView, Referrer, Internal);
    }

    private static void Purchase(SimulatedUser user, ref SimulatedEvent ev)
    {
        GoTo(user, Checkout, -1);
        ev.Page = user.CurrentPage;
        Number(ref ev, SimulatedEventTypes.Purchase, Items, user.CartItems);
        ev.Value = user.CartTotal;
        user.CartItems = 0;
        user.CartTotal = 0;
    }

    private void GoToProduct(SimulatedUser user)
    {
        int product = ProductCatalog.PickProduct(_rng);
        GoTo(user, _catalog.ProductPages[product], product);
    }

    private static void GoTo(SimulatedUser user, JsonEncodedText page, int product)
    {
        user.CurrentPage = page;
        user.CurrentProduct = product;
    }

    private static void Property(ref SimulatedEvent ev, JsonEncodedText type, JsonEncodedText name, JsonEncodedText value)
    {
        ev.Type = type;
        ev.PropertyName = name;
        ev.PropertyText = value;
    }

    private static JsonEncodedText[] Encode(params string[] values) => values.Select(v => JsonEncodedText.Encode(v)).ToArray();

    private static void Number(ref SimulatedEvent ev, JsonEncodedText type, JsonEncodedText name, long value)
    {
        ev.Type = type;
        ev.PropertyName = name;
        ev.PropertyNumber = value;
    }
}
