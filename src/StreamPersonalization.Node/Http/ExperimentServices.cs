using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node.Experiments;

namespace StreamPersonalization.Node.Http;

/// <summary>What the experiment routes need from the node (null members switch their routes off).</summary>
public sealed record ExperimentServices(
    ExperimentCatalogSource Catalog,
    AssignmentService Assignments,
    SnapshotBoard Snapshots,
    IExperimentDefinitionStore Definitions,
    string? AdminToken,
    UserServices? Users = null);
