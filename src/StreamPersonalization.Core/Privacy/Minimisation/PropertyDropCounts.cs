namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>Dropped properties by reason, for one event or summed over many (use <c>+</c>).</summary>
public readonly record struct PropertyDropCounts(int NotAllowlisted, int PiiEmail, int PiiPhone, int PiiIp, int NotScalar)
{
    public int Total => NotAllowlisted + PiiEmail + PiiPhone + PiiIp + NotScalar;

    public int this[PropertyDropReason reason] => reason switch
    {
        PropertyDropReason.NotAllowlisted => NotAllowlisted,
        PropertyDropReason.PiiEmail => PiiEmail,
        PropertyDropReason.PiiPhone => PiiPhone,
        PropertyDropReason.PiiIp => PiiIp,
        PropertyDropReason.NotScalar => NotScalar,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>These counts plus one drop for <paramref name="reason"/>.</summary>
    public PropertyDropCounts Add(PropertyDropReason reason) => reason switch
    {
        PropertyDropReason.NotAllowlisted => this with { NotAllowlisted = NotAllowlisted + 1 },
        PropertyDropReason.PiiEmail => this with { PiiEmail = PiiEmail + 1 },
        PropertyDropReason.PiiPhone => this with { PiiPhone = PiiPhone + 1 },
        PropertyDropReason.PiiIp => this with { PiiIp = PiiIp + 1 },
        PropertyDropReason.NotScalar => this with { NotScalar = NotScalar + 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    public static PropertyDropCounts operator +(PropertyDropCounts a, PropertyDropCounts b) => new(
        a.NotAllowlisted + b.NotAllowlisted, a.PiiEmail + b.PiiEmail, a.PiiPhone + b.PiiPhone, a.PiiIp + b.PiiIp, a.NotScalar + b.NotScalar);

    public override string ToString() =>
        $"Dropped(not_allowlisted={NotAllowlisted}, pii_email={PiiEmail}, pii_phone={PiiPhone}, pii_ip={PiiIp}, not_scalar={NotScalar})";
}

/// <summary>The properties an event keeps after minimisation, and how many were dropped for which reason.</summary>
public sealed record PropertyFilterResult(IReadOnlyList<EventProperty> Kept, PropertyDropCounts Dropped)
{
    /// <summary>No properties at all (absent, null or empty object).</summary>
    public static PropertyFilterResult Empty { get; } = new([], default);

    private readonly int? _keptCount;

    /// <summary>How many properties were kept; equals <c>Kept.Count</c> unless the values were not materialised (the decoder's single pass).</summary>
    public int KeptCount { get => _keptCount ?? Kept.Count; init => _keptCount = value; }

    public override string ToString() => $"Kept[{string.Join(", ", Kept)}] ({KeptCount}) {Dropped}";
}
