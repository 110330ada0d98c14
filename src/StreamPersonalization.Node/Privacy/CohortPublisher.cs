using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Privacy;

/// <summary>
/// Publishes a stored release: one JSON record per released cohort to <c>cohort-metrics</c> (key and <c>sp-record-id</c> =
/// period/cohort), or, for a refused release, its <c>privacy_budget</c> alert to <c>alerts</c> (key = alert key,
/// <c>sp-record-id</c> = alert id). The records come from the stored document, so publishing again (after a crash between
/// publish and mark) repeats the same records with the same ids.
/// </summary>
public sealed class CohortPublisher(IProducer<byte[], byte[]> producer, KafkaOptions topics)
{
    /// <summary>Produces the release's records and waits for Kafka's acknowledgements; returns how many.</summary>
    public async Task<int> PublishAsync(StoredCohortRelease release, CancellationToken ct)
    {
        if (CohortReleaseJson.RefusalAlert(release.Document) is { } alert)
        {
            await producer.ProduceAsync(topics.AlertsTopic, Message(alert.Key, AlertJson.ToUtf8(alert), alert.Id), ct).ConfigureAwait(false);
            return 1;
        }
        var records = CohortReleaseJson.MetricRecords(release.Document);
        await Task.WhenAll(records.Select(r => producer.ProduceAsync(topics.CohortMetricsTopic, Message(r.Key, r.Value, r.Key), ct))).ConfigureAwait(false);
        return records.Count;
    }

    private static Message<byte[], byte[]> Message(string key, byte[] value, string recordId) => new()
    {
        Key = Encoding.UTF8.GetBytes(key),
        Value = value,
        Headers = new Headers { { StreamPersonalization.Kafka.OutputMessages.RecordIdHeader, Encoding.UTF8.GetBytes(recordId) } },
    };
}
