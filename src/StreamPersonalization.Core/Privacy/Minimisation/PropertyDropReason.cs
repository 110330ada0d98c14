namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>Why a property was dropped at ingest. Counted per reason; the value itself is never kept.</summary>
public enum PropertyDropReason
{
    /// <summary>The name is not on the allowlist of the event's type (nor on the "*" list).</summary>
    NotAllowlisted,

    /// <summary>An allowlisted string value contains an e-mail address.</summary>
    PiiEmail,

    /// <summary>An allowlisted string value contains a phone number.</summary>
    PiiPhone,

    /// <summary>An allowlisted string value contains an IPv4 or IPv6 address.</summary>
    PiiIp,

    /// <summary>
    /// An allowlisted name holds an object or array (nested values are not inspected) or a number outside the double
    /// range: only scalars that can be kept faithfully are kept.
    /// </summary>
    NotScalar,
}

public static class PropertyDropReasons
{
    /// <summary>Every reason, in code order (for counters and dashboards).</summary>
    public static IReadOnlyList<PropertyDropReason> All { get; } = Enum.GetValues<PropertyDropReason>();

    /// <summary>The snake_case code used in counters and logs.</summary>
    public static string Code(this PropertyDropReason reason) => reason switch
    {
        PropertyDropReason.NotAllowlisted => "not_allowlisted",
        PropertyDropReason.PiiEmail => "pii_email",
        PropertyDropReason.PiiPhone => "pii_phone",
        PropertyDropReason.PiiIp => "pii_ip",
        PropertyDropReason.NotScalar => "not_scalar",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>The drop reason for a detected PII kind.</summary>
    public static PropertyDropReason ToDropReason(this PiiKind kind) => kind switch
    {
        PiiKind.Email => PropertyDropReason.PiiEmail,
        PiiKind.Phone => PropertyDropReason.PiiPhone,
        PiiKind.IpAddress => PropertyDropReason.PiiIp,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no PII detected"),
    };
}
