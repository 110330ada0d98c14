using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>
/// The bucketing hash behind every fixed and factorial split. FROZEN: changing anything here (hash function,
/// byte order, separator, encoding or the mapping to [0,1)) silently reassigns every user of every running
/// experiment, so a pinned-value test guards it.
/// <para>
/// Definition: <c>h = first 8 bytes of SHA-256(UTF-8(salt + ":" + userKey))</c> read big-endian; the unit value
/// is <c>(h &gt;&gt; 11) · 2⁻⁵³</c>, i.e. the top 53 bits as a double in [0,1) (exact, no rounding up to 1).
/// For factorial experiments each factor uses the salt <c>salt + ":" + factorName</c>.
/// SHA-256 was chosen over xxHash/Murmur because it is in the BCL (no hand-written hash to get wrong and pin),
/// is identical on every platform and language an analyst might re-derive assignments in, and its output bits
/// are uniform and independent across salts; with hardware SHA extensions it still costs well under a
/// microsecond for short keys.
/// </para>
/// The input is encoded into a stack buffer (pooled only for very long keys), so hashing does not allocate.
/// </summary>
public static class AssignmentHash
{
    private const int StackLimit = 256;
    private const double Unit = 1.0 / (1UL << 53);

    /// <summary>First 8 bytes (big-endian) of SHA-256 of <c>salt:userKey</c>.</summary>
    public static ulong Bucket(ReadOnlySpan<char> salt, ReadOnlySpan<char> userKey) => Bucket(salt, default, userKey);

    /// <summary>
    /// Hash of <c>salt:scope:userKey</c> (or <c>salt:userKey</c> when <paramref name="scope"/> is empty); the scope
    /// gives factorial factors their own salt without building a string per call.
    /// </summary>
    public static ulong Bucket(ReadOnlySpan<char> salt, ReadOnlySpan<char> scope, ReadOnlySpan<char> userKey)
    {
        var max = Encoding.UTF8.GetMaxByteCount(salt.Length + scope.Length + userKey.Length + 2);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(salt, buffer);
            buffer[n++] = (byte)':';
            if (!scope.IsEmpty)
            {
                n += Encoding.UTF8.GetBytes(scope, buffer[n..]);
                buffer[n++] = (byte)':';
            }
            n += Encoding.UTF8.GetBytes(userKey, buffer[n..]);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..n], digest);
            return BinaryPrimitives.ReadUInt64BigEndian(digest);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Maps a bucket to [0,1) using its top 53 bits (the precision of a double).</summary>
    public static double ToUnit(ulong bucket) => (bucket >> 11) * Unit;
}
