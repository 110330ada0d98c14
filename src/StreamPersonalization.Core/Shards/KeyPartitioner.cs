using System.Buffers.Binary;
using System.Text;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The partition of a record key, as the Java Kafka client's default partitioner computes it for keyed records
/// (<c>BuiltInPartitioner.partitionForKey</c>: <c>toPositive(murmur2(key)) % partitions</c>) and as librdkafka's
/// <c>murmur2</c> / <c>murmur2_random</c> partitioners do. Publishers of <c>clickstream</c> use it, so a user's
/// events are in one partition, and the engine uses it to name the shard (partition) a user id belongs to.
/// </summary>
public static class KeyPartitioner
{
    /// <summary>Kafka's murmur2 (MurmurHash2, seed 0x9747b28c, little-endian 4-byte blocks), as a signed 32-bit value
    /// like <c>org.apache.kafka.common.utils.Utils.murmur2</c>.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var h = 0x9747b28cu ^ (uint)data.Length;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = data[(blocks * 4)..];
        switch (tail.Length)
        {
            case 3: h ^= (uint)tail[2] << 16; goto case 2;
            case 2: h ^= (uint)tail[1] << 8; goto case 1;
            case 1: h ^= tail[0]; h *= m; break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>The partition of <paramref name="key"/> among <paramref name="partitions"/>: (murmur2 &amp; 0x7fffffff) mod n.</summary>
    public static int PartitionOf(ReadOnlySpan<byte> key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return (Murmur2(key) & 0x7fffffff) % partitions;
    }

    /// <summary>The partition of a string key, encoded as UTF-8 (as every client encodes string keys).</summary>
    public static int PartitionOf(string key, int partitions)
    {
        ArgumentNullException.ThrowIfNull(key);
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(key, buffer);
        return PartitionOf(buffer[..n], partitions);
    }
}
