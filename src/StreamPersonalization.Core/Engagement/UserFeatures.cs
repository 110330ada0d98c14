namespace StreamPersonalization.Core.Engagement;

/// <summary>Marks a <see cref="UserFeatures"/> field as visible to segment rules under a snake_case name.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class FeatureAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;
    public string Description { get; } = description;
}

/// <summary>
/// The features a segment rule can read, computed for one user at one event time ("now").
/// Rolling counts use whole UTC days: a "7d" count covers the day of "now" and the 6 days before.
/// Numeric features are doubles so rules compare them uniformly; string features may be null.
/// </summary>
public struct UserFeatures
{
    [Feature("engagement_score", "Exponentially decayed, weighted sum of the user's events at now.")]
    public double EngagementScore;
    [Feature("events_1d", "Events (all types) on the UTC day of now.")]
    public double Events1d;
    [Feature("page_views_7d", "page_view events in the last 7 UTC days.")]
    public double PageViews7d;
    [Feature("clicks_7d", "click events in the last 7 UTC days.")]
    public double Clicks7d;
    [Feature("add_to_carts_7d", "add_to_cart events in the last 7 UTC days.")]
    public double AddToCarts7d;
    [Feature("purchases_30d", "purchase events in the last 30 UTC days.")]
    public double Purchases30d;
    [Feature("revenue_30d", "Sum of purchase values in the last 30 UTC days.")]
    public double Revenue30d;
    [Feature("sessions_7d", "Closed sessions that started in the last 7 UTC days.")]
    public double Sessions7d;
    [Feature("sessions_30d", "Closed sessions that started in the last 30 UTC days.")]
    public double Sessions30d;
    [Feature("custom_events_30d", "Events of custom (non-standard) types in the last 30 UTC days.")]
    public double CustomEvents30d;
    [Feature("days_since_last_session", "Whole days between the user's latest event and now.")]
    public double DaysSinceLastSession;
    [Feature("total_events", "Events ever accepted for the user.")]
    public double TotalEvents;
    [Feature("total_purchases", "Purchases ever accepted for the user.")]
    public double TotalPurchases;
    [Feature("device", "Device of the user's latest event (e.g. mobile, desktop, tablet).")]
    public string? Device;
    [Feature("country", "ISO country code of the user's latest event.")]
    public string? Country;
}
