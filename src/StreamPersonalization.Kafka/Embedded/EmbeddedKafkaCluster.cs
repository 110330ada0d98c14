using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace StreamPersonalization.Kafka.Embedded;

/// <summary>
/// An in-process Kafka broker cluster: librdkafka's mock cluster, in the librdkafka that Confluent.Kafka loaded from
/// the <c>librdkafka.redist</c> package (2.16.0; see <see cref="Native.KafkaNativeLibrary"/>).
/// It speaks the real Kafka protocol on 127.0.0.1 ports, so any client (Confluent.Kafka or other processes)
/// can connect to <see cref="BootstrapServers"/>.
/// </summary>
/// <remarks>
/// Caveats: the mock keeps at most 5 MB or 100,000 message sets per partition (older data is dropped,
/// like retention); it does not implement CreateTopics (use <see cref="CreateTopic"/>).
/// The cluster is owned by a private producer handle; both are destroyed by <see cref="Dispose"/>.
/// Methods are safe to call from any thread (librdkafka locks internally), but not after Dispose.
/// </remarks>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    private const int ErrStrSize = 512;
    private IntPtr _rk;
    private IntPtr _mcluster;
    private readonly object _gate = new();

    private EmbeddedKafkaCluster(IntPtr rk, IntPtr mcluster, string bootstrap, int brokers)
    {
        _rk = rk;
        _mcluster = mcluster;
        BootstrapServers = bootstrap;
        BrokerCount = brokers;
    }

    /// <summary>Comma-separated <c>host:port</c> list, e.g. <c>127.0.0.1:41234,127.0.0.1:41235</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of mock brokers; broker ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers listening on 127.0.0.1.</summary>
    /// <exception cref="Native.KafkaNativeLibraryException">No build of librdkafka loads on this machine.</exception>
    /// <exception cref="InvalidOperationException">The cluster could not start.</exception>
    public static EmbeddedKafkaCluster Start(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        Native.KafkaNativeLibrary.EnsureLoaded();
        var conf = MockNative.rd_kafka_conf_new();

        var errstr = new byte[ErrStrSize];
        // The owner handle never produces; keep its own logging quiet.
        if (MockNative.rd_kafka_conf_set(conf, "log_level", "3", errstr, (UIntPtr)ErrStrSize) != MockNative.RD_KAFKA_CONF_OK)
        {
            MockNative.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("rd_kafka_conf_set failed: " + Str(errstr));
        }

        var rk = MockNative.rd_kafka_new(MockNative.RD_KAFKA_PRODUCER, conf, errstr, (UIntPtr)ErrStrSize);
        if (rk == IntPtr.Zero)
        {
            MockNative.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("rd_kafka_new failed: " + Str(errstr));
        }

        var mcluster = MockNative.rd_kafka_mock_cluster_new(rk, brokers);
        if (mcluster == IntPtr.Zero)
        {
            MockNative.rd_kafka_destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed (could not bind listeners on 127.0.0.1?).");
        }

        var bootstrap = Marshal.PtrToStringUTF8(MockNative.rd_kafka_mock_cluster_bootstraps(mcluster)) ?? "";
        return new EmbeddedKafkaCluster(rk, mcluster, bootstrap, brokers);
    }

    /// <summary>Creates a topic (the mock does not support the CreateTopics admin API).</summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        Check(MockNative.rd_kafka_mock_topic_create(Handle, name, partitions, replicationFactor), $"create topic '{name}'");
    }

    /// <summary>Disconnects broker <paramref name="brokerId"/> (1-based; -1 = all) and refuses new connections.
    /// Does not move partition leadership.</summary>
    public void SetBrokerDown(int brokerId) =>
        Check(MockNative.rd_kafka_mock_broker_set_down(Handle, brokerId), $"set broker {brokerId} down");

    /// <summary>Lets broker <paramref name="brokerId"/> (1-based; -1 = all) accept connections again.</summary>
    public void SetBrokerUp(int brokerId) =>
        Check(MockNative.rd_kafka_mock_broker_set_up(Handle, brokerId), $"set broker {brokerId} up");

    /// <summary>The next <c>errors.Length</c> requests of type <paramref name="api"/> (to any broker) fail with the
    /// given error codes, in order. <see cref="ErrorCode.Local_Transport"/> makes the broker drop the connection.</summary>
    public void PushRequestErrors(KafkaApiKey api, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Length == 0) return;
        var codes = Array.ConvertAll(errors, e => (int)e);
        MockNative.rd_kafka_mock_push_request_errors_array(Handle, (short)api, (UIntPtr)codes.Length, codes);
    }

    /// <summary>Removes any not-yet-consumed injected errors for <paramref name="api"/>.</summary>
    public void ClearRequestErrors(KafkaApiKey api) =>
        MockNative.rd_kafka_mock_clear_request_errors(Handle, (short)api);

    /// <summary>
    /// The next <c>errors.Length</c> requests of type <paramref name="api"/> that reach broker <paramref name="brokerId"/>
    /// fail with the given error codes, in order. Unlike <see cref="PushRequestErrors"/> this targets one broker (the
    /// leader of some partitions, or a group coordinator) and can be counted with <see cref="PendingBrokerRequestErrors"/>.
    /// </summary>
    /// <remarks>Once a broker has had errors pushed for <paramref name="api"/>, it no longer consults the cluster-wide
    /// errors of <see cref="PushRequestErrors"/> for that request type (checked again on 2.16): use one kind per test.</remarks>
    public void PushBrokerRequestErrors(int brokerId, KafkaApiKey api, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        foreach (var error in errors) PushBrokerRequestError(brokerId, api, error, TimeSpan.Zero);
    }

    /// <summary>The next request of type <paramref name="api"/> to broker <paramref name="brokerId"/> is answered
    /// with <paramref name="error"/> (or succeeds, for <see cref="ErrorCode.NoError"/>) after <paramref name="responseDelay"/>.</summary>
    public void PushBrokerRequestError(int brokerId, KafkaApiKey api, ErrorCode error, TimeSpan responseDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(responseDelay, TimeSpan.Zero);
        Check(MockNative.rd_kafka_mock_broker_push_request_error_rtts(Handle, brokerId, (short)api, (UIntPtr)1, (int)error, (int)responseDelay.TotalMilliseconds),
            $"push {api} error {error} to broker {brokerId}");
    }

    /// <summary>Errors pushed with <see cref="PushBrokerRequestErrors"/> for <paramref name="api"/> on broker
    /// <paramref name="brokerId"/> that no request has consumed yet (0 when none were pushed).</summary>
    public int PendingBrokerRequestErrors(int brokerId, KafkaApiKey api)
    {
        Check(MockNative.rd_kafka_mock_broker_error_stack_cnt(Handle, brokerId, (short)api, out var count), $"count {api} errors of broker {brokerId}");
        return (int)count;
    }

    /// <summary>Moves the leadership of <paramref name="topic"/>/<paramref name="partition"/> to broker <paramref name="brokerId"/>.
    /// The log stays (the mock keeps one log per partition); clients learn the new leader from their next
    /// NotLeaderForPartition answer and a metadata refresh, as after a real leader election.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        Check(MockNative.rd_kafka_mock_partition_set_leader(Handle, topic, partition, brokerId), $"set leader of {topic}/{partition} to broker {brokerId}");
    }

    /// <summary>Makes broker <paramref name="brokerId"/> the coordinator of consumer group <paramref name="groupId"/>
    /// (set it before the group's first FindCoordinator; the mock otherwise picks one by hashing the id).</summary>
    public void SetGroupCoordinator(string groupId, int brokerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        Check(MockNative.rd_kafka_mock_coordinator_set(Handle, "group", groupId, brokerId), $"set coordinator of group {groupId} to broker {brokerId}");
    }

    /// <summary>Stops the brokers (clients see disconnects) and frees the native handles.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_rk == IntPtr.Zero) return;
            MockNative.rd_kafka_mock_cluster_destroy(_mcluster);
            MockNative.rd_kafka_destroy(_rk);
            _mcluster = IntPtr.Zero;
            _rk = IntPtr.Zero;
        }
    }

    private IntPtr Handle
    {
        get
        {
            var h = _mcluster;
            ObjectDisposedException.ThrowIf(h == IntPtr.Zero, this);
            return h;
        }
    }

    private static void Check(int err, string what)
    {
        if (err == 0) return;
        var msg = Marshal.PtrToStringUTF8(MockNative.rd_kafka_err2str(err));
        throw new KafkaException(new Error((ErrorCode)err, $"mock cluster: {what} failed: {msg}"));
    }

    private static string Str(byte[] buf)
    {
        var n = Array.IndexOf(buf, (byte)0);
        return Encoding.UTF8.GetString(buf, 0, n < 0 ? buf.Length : n);
    }
}
