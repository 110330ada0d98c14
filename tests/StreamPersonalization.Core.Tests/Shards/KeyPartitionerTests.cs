using System.Text;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Tests.Shards;

public sealed class KeyPartitionerTests
{
    // Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2: the Java client's
    // own expected values of Utils.murmur2 (which its default partitioner applies to keyed records).
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_MatchesJavaClientVectors(string key, int expected) =>
        Assert.Equal(expected, KeyPartitioner.Murmur2(Encoding.ASCII.GetBytes(key)));

    [Theory]
    [InlineData("foobar", 12)]
    [InlineData("a-little-bit-longer-string", 24)]
    [InlineData("abc", 7)]
    public void PartitionOf_IsToPositiveHashModuloCount(string key, int partitions)
    {
        // BuiltInPartitioner.partitionForKey = Utils.toPositive(Utils.murmur2(key)) % numPartitions, toPositive = & 0x7fffffff.
        var expected = (KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % partitions;
        Assert.Equal(expected, KeyPartitioner.PartitionOf(key, partitions));
        Assert.Equal(expected, KeyPartitioner.PartitionOf(Encoding.UTF8.GetBytes(key), partitions));
    }

    [Fact]
    public void PartitionOf_FoobarOver50_Is16()
    {
        // -790332482 & 0x7fffffff = 1357151166; 1357151166 mod 50 = 16 (worked by hand from the Java vector).
        Assert.Equal(16, KeyPartitioner.PartitionOf("foobar", 50));
    }

    [Fact]
    public void PartitionOf_NonAsciiAndLongKeys_UseUtf8Bytes()
    {
        var key = "ü-" + new string('x', 700);   // longer than the stack buffer
        Assert.Equal(KeyPartitioner.PartitionOf(Encoding.UTF8.GetBytes(key), 24), KeyPartitioner.PartitionOf(key, 24));
        Assert.NotEqual(KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes("ü")), KeyPartitioner.Murmur2(Encoding.Latin1.GetBytes("ü")));
    }

    [Fact]
    public void PartitionOf_ZeroPartitions_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.PartitionOf("u", 0));
}
