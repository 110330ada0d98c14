using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Privacy.Minimisation;

namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// Either a valid event or the reason (and a human-readable detail) why the record is rejected. With the decoder's
/// property allowlist on, a valid result also carries the kept properties and drop counts by reason
/// (<see cref="Properties"/>; null when the allowlist is off or the record was rejected).
/// </summary>
public readonly record struct DecodeResult(ClickEvent? Event, RejectReason Reason, string? Detail, PropertyFilterResult? Properties = null)
{
    public bool IsValid => Event is not null;

    public static DecodeResult Ok(ClickEvent e) => new(e, default, null);

    public static DecodeResult Ok(ClickEvent e, PropertyFilterResult properties) => new(e, default, null, properties);

    public static DecodeResult Reject(RejectReason reason, string detail) => new(null, reason, detail);

    public override string ToString() => IsValid ? $"Valid({Event})" : $"Rejected({Reason.Code()}: {Detail})";
}
