using System.Runtime.InteropServices;

namespace StreamPersonalization.Kafka.Embedded;

/// <summary>
/// P/Invoke declarations for the parts of librdkafka (rdkafka.h / rdkafka_mock.h, 2.16)
/// needed to run the in-process mock cluster. They bind to the library Confluent.Kafka loaded (<see cref="Native.KafkaNativeLibrary"/>).
/// </summary>
internal static class MockNative
{
    internal const string Lib = Native.KafkaNativeLibrary.ImportName;

    internal const int RD_KAFKA_PRODUCER = 0;
    internal const int RD_KAFKA_CONF_OK = 0;

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_conf_new();
    [DllImport(Lib)] internal static extern void rd_kafka_conf_destroy(IntPtr conf);

    [DllImport(Lib)]
    internal static extern int rd_kafka_conf_set(IntPtr conf,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value,
        byte[] errstr, UIntPtr errstrSize);

    /// <summary>On success takes ownership of <paramref name="conf"/>.</summary>
    [DllImport(Lib)] internal static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);
    [DllImport(Lib)] internal static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCnt);
    [DllImport(Lib)] internal static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);
    [DllImport(Lib)] internal static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [DllImport(Lib)]
    internal static extern int rd_kafka_mock_topic_create(IntPtr mcluster,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCnt, int replicationFactor);

    [DllImport(Lib)] internal static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [DllImport(Lib)]
    internal static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey,
        UIntPtr cnt, int[] errors);

    [DllImport(Lib)] internal static extern void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);

    /// <summary>
    /// Variadic in C (<c>cnt</c> pairs of <c>rd_kafka_resp_err_t err, int rtt_ms</c>); declared here for exactly one
    /// pair. On x86-64 System V (and AArch64 Linux) the first variadic integer arguments travel in the same registers as
    /// fixed ones, so this fixed signature is a valid call there; the wrapper pushes one pair per call.
    /// </summary>
    [DllImport(Lib)]
    internal static extern int rd_kafka_mock_broker_push_request_error_rtts(IntPtr mcluster, int brokerId, short apiKey,
        UIntPtr cnt, int err, int rttMs);

    [DllImport(Lib)]
    internal static extern int rd_kafka_mock_broker_error_stack_cnt(IntPtr mcluster, int brokerId, short apiKey, out UIntPtr cnt);

    [DllImport(Lib)]
    internal static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, int brokerId);

    [DllImport(Lib)]
    internal static extern int rd_kafka_mock_coordinator_set(IntPtr mcluster,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string keyType,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string key, int brokerId);

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_err2str(int err);
}
