using StreamPersonalization.Core.Experiments.State;
using static StreamPersonalization.Core.Tests.Experiments.State.Deltas;

namespace StreamPersonalization.Core.Tests.Experiments.State;

public class ExperimentStateTests
{
    [Fact]
    public void Apply_ContiguousRanges_AppliesAndMovesMark()
    {
        var s = NewState();
        Assert.Equal(ApplyOutcome.Applied, s.Apply(Range(0, 0, 10, Arm("control", 5, 1))));
        Assert.Equal(ApplyOutcome.Applied, s.Apply(Range(0, 10, 25, Arm("control", 3, 2), Arm("treatment", 4, 1))));
        Assert.Equal(25, s.Mark(0));
        Assert.Equal(8, s.Arm("control").Users);
        Assert.Equal(3, s.Arm("control").Conversions);
        Assert.Equal(2, s.Sequence);
    }

    [Fact]
    public void Apply_ReplayedRange_IsDuplicateAndLeavesCountsUnchanged()
    {
        var s = NewState();
        var first = Range(0, 0, 10, Arm("control", 5, 1), Arm("treatment", 6, 2));
        var second = Range(0, 10, 20, Arm("control", 2, 0));
        s.Apply(first);
        s.Apply(second);
        var before = s.ToBytes();
        Assert.Equal(ApplyOutcome.Duplicate, s.Apply(first));
        Assert.Equal(ApplyOutcome.Duplicate, s.Apply(second));
        Assert.Equal(ApplyOutcome.Duplicate, s.Apply(Range(0, 5, 20, Arm("control", 99))));
        Assert.Equal(before, s.ToBytes());
    }

    [Fact]
    public void Apply_RangeAfterMissingRange_IsGapAndNotApplied()
    {
        var s = NewState();
        s.Apply(Range(0, 0, 10, Arm("control", 5)));
        Assert.Equal(ApplyOutcome.Gap, s.Apply(Range(0, 20, 30, Arm("control", 7))));
        Assert.Equal(ApplyOutcome.Gap, s.Apply(Range(1, 5, 9, Arm("control", 7))));
        Assert.Equal(5, s.Arm("control").Users);
        Assert.Equal(10, s.Mark(0));
        Assert.Equal(0, s.Mark(1));
        Assert.Equal(1, s.Sequence);
    }

    [Fact]
    public void Apply_RangeStraddlingMark_IsOverlapAndNotApplied()
    {
        var s = NewState();
        s.Apply(Range(0, 0, 10, Arm("control", 5)));
        Assert.Equal(ApplyOutcome.Overlap, s.Apply(Range(0, 5, 15, Arm("control", 7))));
        Assert.Equal(5, s.Arm("control").Users);
        Assert.Equal(10, s.Mark(0));
    }

    [Fact]
    public void Apply_OtherExperimentOrEmptyRange_IsInvalid()
    {
        var s = NewState();
        Assert.Equal(ApplyOutcome.Invalid, s.Apply(new ExperimentDelta("other", 0, 0, 10, [Arm("control", 1)])));
        Assert.Equal(ApplyOutcome.Invalid, s.Apply(Range(0, 0, 0, Arm("control", 1))));
        Assert.Empty(s.Arms);
    }

    [Fact]
    public void Apply_PartitionsAreIndependent_EachHasItsOwnMark()
    {
        var s = NewState();
        Assert.Equal(ApplyOutcome.Applied, s.Apply(Range(3, 0, 100, Arm("control", 1))));
        Assert.Equal(ApplyOutcome.Applied, s.Apply(Range(7, 0, 4, Arm("control", 1))));
        Assert.Equal(100, s.Mark(3));
        Assert.Equal(4, s.Mark(7));
    }

    [Fact]
    public void Apply_EachAppliedDelta_IsOneMsprtLook()
    {
        var s = NewState();
        s.Apply(Range(0, 0, 10, Arm("control", 1000, 100), Arm("treatment", 1000, 130)));
        s.Apply(Range(0, 10, 20, Arm("control", 1000, 100), Arm("treatment", 1000, 130)));
        s.Apply(Range(0, 10, 20, Arm("control", 1000, 100)));
        Assert.Equal(2, s.Msprt["treatment"].Looks);
        Assert.InRange(s.Msprt["treatment"].PValue, 0, 1);
        Assert.False(s.Msprt.ContainsKey("control"));
    }

    [Fact]
    public void ToBytes_RoundTrip_RestoresEverything()
    {
        var s = NewState();
        s.Apply(Range(0, 0, 10, new ArmDelta("control", 50, 5, 1.5, 2.25, 3, 9, 4.5), Arm("treatment", 60, 9)));
        s.Apply(Range(2, 0, 8, Arm("treatment", 70, 12)));
        var copy = ExperimentState.FromBytes(s.ToBytes());
        Assert.Equal(s.ToBytes(), copy.ToBytes());
        Assert.Equal(s.Arms, copy.Arms);
        Assert.Equal(s.Marks, copy.Marks);
        Assert.Equal(s.Msprt, copy.Msprt);
        Assert.Equal(s.Sequence, copy.Sequence);
        Assert.Equal(ApplyOutcome.Duplicate, copy.Apply(Range(0, 0, 10, Arm("control", 1))));
    }

    [Fact]
    public void FromBytes_UnknownVersion_Throws()
    {
        var bytes = NewState().ToBytes();
        bytes[0] = 99;
        Assert.Throws<InvalidDataException>(() => ExperimentState.FromBytes(bytes));
    }

    [Fact]
    public void FromBytes_Truncated_ThrowsInvalidData()
    {
        var state = NewState().ToBytes();
        var delta = Range(0, 0, 10, Arm("control", 1)).ToBytes();
        Assert.Throws<InvalidDataException>(() => ExperimentState.FromBytes(state[..^3]));
        Assert.Throws<InvalidDataException>(() => ExperimentDelta.FromBytes(delta[..^3]));
    }

    [Fact]
    public void DeltaToBytes_RoundTrip_IsEqual()
    {
        var d = Range(4, 100, 250, new ArmDelta("control", 12, 3, 45.5, 300.25, -1.5, 7, 2), Arm("treatment", 9, 1));
        var copy = ExperimentDelta.FromBytes(d.ToBytes());
        Assert.True(d.SameAs(copy));
        Assert.Equal(ExperimentDelta.FormatVersion, d.ToBytes()[0]);
    }

    [Fact]
    public void DeltaToString_IsReadable()
    {
        var text = Range(4, 100, 250, Arm("control", 12, 3)).ToString();
        Assert.Contains("exp-1 p4 [100, 250)", text);
        Assert.Contains("control: users+12 conv+3", text);
    }
}
