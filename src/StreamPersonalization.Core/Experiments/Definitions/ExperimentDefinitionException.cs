namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// An experiment definition (or the catalog holding it) is invalid. The message names the source (when it came
/// from a file), the experiment (0-based position and id) and the field, so an operator or API client can fix
/// it without reading code; the parts are also exposed for structured API error responses.
/// </summary>
public sealed class ExperimentDefinitionException : Exception
{
    public ExperimentDefinitionException(string message, string? sourceName, int? experimentIndex = null,
        string? experimentId = null, string? field = null, Exception? innerException = null)
        : base(message, innerException)
    {
        SourceName = sourceName;
        ExperimentIndex = experimentIndex;
        ExperimentId = experimentId;
        Field = field;
    }

    /// <summary>File path or other name of the YAML text; null for definitions from the API.</summary>
    public string? SourceName { get; }

    /// <summary>0-based position of the experiment in the file's list, if the error is about one experiment from a file.</summary>
    public int? ExperimentIndex { get; }

    /// <summary>Id of the offending experiment, if known.</summary>
    public string? ExperimentId { get; }

    /// <summary>The field at fault in YAML spelling (<c>fallback_variant</c>, <c>variants[1].weight</c>, ...).</summary>
    public string? Field { get; }

    /// <summary>Builds the message in the one format used everywhere: <c>source: experiment #i ('id'): field 'f': problem</c>.</summary>
    internal static ExperimentDefinitionException Create(string? sourceName, int? index, string? id, string? field,
        string problem, int? line = null, Exception? inner = null)
    {
        var source = sourceName is null ? "" : $"{sourceName}: ";
        var where = (index, id) switch
        {
            (null, null) => "",
            (null, _) => $"experiment '{id}': ",
            (_, null) => $"experiment #{index}: ",
            _ => $"experiment #{index} ('{id}'): ",
        };
        var fieldText = field is null ? "" : $"field '{field}': ";
        var lineText = line is null ? "" : $" (line {line})";
        return new ExperimentDefinitionException($"{source}{where}{fieldText}{problem}{lineText}", sourceName, index, id, field, inner);
    }
}
