using StreamPersonalization.Runtime.Ingest;

namespace StreamPersonalization.Node;

/// <summary>One node's runtime settings (configuration section <c>Node</c>).</summary>
public sealed record NodeOptions
{
    /// <value>This node's identity in logs and the consumer's client.id. Default: the machine name. Allowed: 1..100 characters of [A-Za-z0-9._-].</value>
    public string NodeId { get; init; } = Environment.MachineName;

    /// <value>Directory for the embedded SQLite file and other local data. Default "data".</value>
    public string DataDirectory { get; init; } = "data";

    /// <value>Consumer group of the user stage. Default "sp-users".</value>
    public string GroupId { get; init; } = "sp-users";

    /// <value>Consumer group of the experiment stage (reads experiment-stats). Default "sp-experiments".</value>
    public string ExperimentsGroupId { get; init; } = "sp-experiments";

    /// <value>A shard checkpoints at least this often while it has processed records. Default 1 second. Allowed 50 ms..5 minutes.</value>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>A shard also checkpoints after this many records. Default 50,000. Allowed 1..10,000,000.</value>
    public int CheckpointMaxRecords { get; init; } = 50_000;

    /// <value>Clean entities untouched for this long (wall clock) are dropped from memory; they reload from the store on their next event or timer. Default 2 minutes. Allowed 1 second..1 day.</value>
    public TimeSpan PassivateAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <value>Records of one partition fetched and not yet taken by a round before the partition is paused (back-pressure;
    /// resumed at half). Default 20,000. Allowed 100..1,000,000.</value>
    public int ShardQueueCapacity { get; init; } = 20_000;

    /// <value>What a shard does when its stored offset fell off the log: Fail (default) or Earliest.</value>
    public OffsetOutOfRangePolicy OnOffsetOutOfRange { get; init; } = OffsetOutOfRangePolicy.Fail;

    /// <value>Time allowed for draining and checkpointing every shard on shutdown. Default 30 seconds. Allowed 1 second..10 minutes.</value>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public NodeOptions Validate()
    {
        Require(!string.IsNullOrEmpty(NodeId) && NodeId.Length <= 100 && NodeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'),
            "Node:NodeId", NodeId, "1..100 characters of [A-Za-z0-9._-]");
        Require(!string.IsNullOrWhiteSpace(DataDirectory), "Node:DataDirectory", DataDirectory, "a directory path");
        Require(!string.IsNullOrWhiteSpace(GroupId), "Node:GroupId", GroupId, "a non-empty consumer group id");
        Require(!string.IsNullOrWhiteSpace(ExperimentsGroupId) && ExperimentsGroupId != GroupId, "Node:ExperimentsGroupId", ExperimentsGroupId, "a non-empty consumer group id other than Node:GroupId");
        Require(CheckpointInterval >= TimeSpan.FromMilliseconds(50) && CheckpointInterval <= TimeSpan.FromMinutes(5), "Node:CheckpointInterval", CheckpointInterval, "00:00:00.050..00:05:00");
        Require(CheckpointMaxRecords is >= 1 and <= 10_000_000, "Node:CheckpointMaxRecords", CheckpointMaxRecords, "1..10000000");
        Require(PassivateAfter >= TimeSpan.FromSeconds(1) && PassivateAfter <= TimeSpan.FromDays(1), "Node:PassivateAfter", PassivateAfter, "00:00:01..1.00:00:00");
        Require(ShardQueueCapacity is >= 100 and <= 1_000_000, "Node:ShardQueueCapacity", ShardQueueCapacity, "100..1000000");
        Require(Enum.IsDefined(OnOffsetOutOfRange), "Node:OnOffsetOutOfRange", OnOffsetOutOfRange, "Fail, Earliest");
        Require(ShutdownTimeout >= TimeSpan.FromSeconds(1) && ShutdownTimeout <= TimeSpan.FromMinutes(10), "Node:ShutdownTimeout", ShutdownTimeout, "00:00:01..00:10:00");
        return this;
    }

    internal static void Require(bool ok, string key, object? value, string allowed)
    {
        if (!ok) throw new ArgumentOutOfRangeException(key, value, $"Configuration key '{key}' is '{value}'; allowed: {allowed}.");
    }
}
