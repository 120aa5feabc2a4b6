package io.shardline.standby;

import java.util.Collection;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

/**
 * The task of {@link StandbySinkConnector}: applies the records Connect hands it to the standby
 * ({@link StandbyWriter}) before {@link #put} returns, so every offset Connect commits (the records handed over so
 * far, the default of {@code preCommit}) is already applied or set aside. When the standby cannot take writes,
 * {@code put} throws {@link RetriableException} after asking Connect to wait {@value #RETRY_BACKOFF_MS} ms before it
 * hands the same records over again.
 */
public final class StandbySinkTask extends SinkTask {

    private static final Logger LOG = LoggerFactory.getLogger(StandbySinkTask.class);
    static final long RETRY_BACKOFF_MS = 1_000;

    private MongoClient standby;
    private ErrantRecords errants;
    private StandbyWriter writer;
    /** Set once the standby was found promoted: records handed over afterwards are the promoted shard's own changes. */
    private boolean promoted;

    @Override
    public String version() {
        return StandbySinkConnector.VERSION;
    }

    @Override
    public void start(Map<String, String> settings) {
        StandbySinkConfig config = new StandbySinkConfig(settings);
        standby = MongoClients.create(config.clientSettings());
        errants = new ErrantRecords(context.errantRecordReporter());
        writer = new StandbyWriter(standby, new ShardTopics(config.shardId()), errants);
        LOG.info("standby of shard {} at {} started", config.shardId(), config.connectionString().getHosts());
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        try {
            if (promoted || promotedNow()) {
                if (!promoted) {
                    LOG.warn("the standby was promoted: its sink applies nothing more ({} records left alone)", records.size());
                }
                promoted = true;
                return;
            }
            writer.apply(records);
        } catch (RetriableException e) {
            LOG.warn("the standby cannot take writes now, {} records handed over again: {}", records.size(), e.getMessage());
            context.timeout(RETRY_BACKOFF_MS);
            throw e;
        }
    }

    private boolean promotedNow() {
        try {
            return StandbyProgress.promoted(standby);
        } catch (MongoException e) {
            throw StandbyFailures.of(e, "reading whether the standby was promoted");
        }
    }

    @Override
    public void close(Collection<TopicPartition> partitions) {
        if (errants != null) {
            errants.forget(partitions);
        }
    }

    @Override
    public void stop() {
        if (standby != null) {
            standby.close();
        }
    }
}
