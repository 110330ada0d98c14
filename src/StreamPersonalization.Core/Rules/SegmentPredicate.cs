using StreamPersonalization.Core.Engagement;

namespace StreamPersonalization.Core.Rules;

/// <summary>
/// A compiled segment rule. Takes the feature vector by readonly reference so the per-event hot path
/// never copies the (fairly large) struct.
/// </summary>
public delegate bool SegmentPredicate(in UserFeatures features);

/// <summary>Several rules fused into one call: bit i of the result is set when rule i holds.</summary>
public delegate ulong SegmentMaskEvaluator(in UserFeatures features);
