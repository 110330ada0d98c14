namespace StreamPersonalization.Core.Segments;

/// <summary>
/// A segment catalog is invalid. The message names the source file and, where applicable, the segment
/// (index and id) and field, so an operator can fix the YAML without reading code.
/// </summary>
public sealed class SegmentCatalogException : Exception
{
    public SegmentCatalogException(string message, string sourceName, int? segmentIndex = null, string? segmentId = null,
        string? field = null, Exception? innerException = null)
        : base(message, innerException)
    {
        SourceName = sourceName;
        SegmentIndex = segmentIndex;
        SegmentId = segmentId;
        Field = field;
    }

    /// <summary>File path or other name of the catalog text.</summary>
    public string SourceName { get; }

    /// <summary>0-based position of the offending segment in the list, if the error is about one segment.</summary>
    public int? SegmentIndex { get; }

    /// <summary>Id of the offending segment, if it has one.</summary>
    public string? SegmentId { get; }

    /// <summary>The YAML field at fault (<c>version</c>, <c>segments</c>, <c>id</c>, <c>rule</c>, ...).</summary>
    public string? Field { get; }
}
