using System.Runtime.InteropServices;

namespace StreamPersonalization.Kafka.Embedded;

/// <summary>
/// P/Invoke declarations for the parts of librdkafka (rdkafka.h / rdkafka_mock.h, 2.0.2)
/// needed to run the in-process mock cluster. Confluent.Kafka loads the same <c>librdkafka.so.1</c>.
/// </summary>
internal static class MockNative
{
    internal const string Lib = "librdkafka.so.1";

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

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_err2str(int err);
}
