using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Ingest;

/// <summary>Either a valid event or the reason (and a human-readable detail) why the record is rejected.</summary>
public readonly record struct DecodeResult(ClickEvent? Event, RejectReason Reason, string? Detail)
{
    public bool IsValid => Event is not null;

    public static DecodeResult Ok(ClickEvent e) => new(e, default, null);

    public static DecodeResult Reject(RejectReason reason, string detail) => new(null, reason, detail);

    public override string ToString() => IsValid ? $"Valid({Event})" : $"Rejected({Reason.Code()}: {Detail})";
}
