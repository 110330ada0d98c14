namespace StreamPersonalization.Runtime.Ingest;

/// <summary>What to do when a partition's stored offset is no longer in the Kafka log (retention dropped it).</summary>
public enum OffsetOutOfRangePolicy
{
    /// <summary>Stop the partition and report it (health, metric, log); nothing is skipped silently. The default.</summary>
    Fail,
    /// <summary>Report it, then continue from the earliest offset still in the log (data between is lost, and counted).</summary>
    Earliest,
}

/// <summary>A partition's position fell off the Kafka log: continuing would silently skip data.</summary>
public sealed class DataLossException(string message) : Exception(message);
