package io.shardline.standby;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the records the standby cannot apply to Connect's errant record reporter (KIP-610): the connector's
 * dead-letter topic, with Connect's headers naming the exception, its message and the record's origin. Connect
 * commits a partition's offset only once the reports before it are written. A record already reported while
 * this task held its partition (Connect hands a batch over again after a retriable failure) is not reported twice.
 * Without a reporter (no dead-letter topic configured) a record that cannot be applied stops the task.
 */
final class ErrantRecords {

    private static final Logger LOG = LoggerFactory.getLogger(ErrantRecords.class);

    private final ErrantRecordReporter reporter;
    /** Per partition held, the newest offset reported. */
    private final Map<TopicPartition, Long> reportedUpTo = new HashMap<>();

    ErrantRecords(ErrantRecordReporter reporter) {
        this.reporter = reporter;
    }

    /** Reports a record that cannot be applied; {@code problem} names the field or the document at fault. */
    void report(SinkRecord record, String problem, Throwable cause) {
        TopicPartition partition = new TopicPartition(record.originalTopic(), record.originalKafkaPartition());
        long offset = record.originalKafkaOffset();
        String message = problem + " (" + partition + ", offset " + offset + ")";
        if (reporter == null) {
            throw new ConnectException(message + "; without errors.deadletterqueue.topic.name the record cannot be set aside", cause);
        }
        Long upTo = reportedUpTo.get(partition);
        if (upTo != null && offset <= upTo) {
            return;
        }
        LOG.warn("to the dead-letter topic: {}", message);
        reporter.report(record, new DataException(message, cause));
        reportedUpTo.put(partition, offset);
    }

    /** Forgets the partitions the task no longer holds. */
    void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(reportedUpTo::remove);
    }
}
