package io.shardline.controller;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.StatsSource;
import io.shardline.topology.stores.StoreNames;

/**
 * Reads the ground truth of every registered shard — {@code dbStats} summed over its databases — on an interval and
 * publishes it on the dbstats topic, where the size topology takes it as the shard's total: CDC-derived sizes drift
 * (events missed or replayed), the shard's own count does not. The shards are read from the topology's own store
 * of descriptors. A shard that does not answer is skipped until the next round.
 */
final class DbStatsCollector implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DbStatsCollector.class);
    private static final List<String> SYSTEM_DATABASES = List.of("admin", "config", "local");

    private final ControllerConfig config;
    private final KafkaStreams streams;
    private final KafkaProducer<String, ShardStats> producer;
    private final ScheduledExecutorService scheduler;
    private final Map<String, MongoClient> clients = new ConcurrentHashMap<>();

    DbStatsCollector(ControllerConfig config, KafkaStreams streams) {
        this.config = config;
        this.streams = streams;
        this.producer = new KafkaProducer<>(KafkaClients.fromEnvironment(config.bootstrapServers()).producer(Map.of()),
            config.catalog().dbStats().keySerde().serializer(),
            config.catalog().dbStats().valueSerde().serializer());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "controller-dbstats");
            thread.setDaemon(true);
            return thread;
        });
    }

    void start() {
        long interval = config.dbStatsInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::collect, interval, interval, TimeUnit.MILLISECONDS);
    }

    private void collect() {
        try {
            ReadOnlyKeyValueStore<String, ShardDescriptor> shards = streams.store(StoreQueryParameters.fromNameAndType(
                StoreNames.SHARDS, QueryableStoreTypes.<String, ShardDescriptor>keyValueStore()));
            try (KeyValueIterator<String, ShardDescriptor> all = shards.all()) {
                all.forEachRemaining(entry -> collect(entry.value));
            }
        } catch (RuntimeException e) {
            LOG.warn("dbStats round skipped: {}", e.toString());
        }
    }

    private void collect(ShardDescriptor shard) {
        try {
            MongoClient client = clients.computeIfAbsent(shard.getConnectionString(), uri -> MongoClients.create(
                MongoClientSettings.builder().applyConnectionString(new ConnectionString(uri))
                    .applyToClusterSettings(c -> c.serverSelectionTimeout(2, TimeUnit.SECONDS)).build()));
            long documents = 0;
            long bytes = 0;
            for (String database : client.listDatabaseNames()) {
                if (SYSTEM_DATABASES.contains(database)) {
                    continue;
                }
                Document stats = client.getDatabase(database).runCommand(new Document("dbStats", 1));
                documents += ((Number) stats.get("objects")).longValue();
                bytes += ((Number) stats.get("dataSize")).longValue();
            }
            ShardStats truth = ShardStats.newBuilder().setShardId(shard.getShardId()).setDocumentCount(documents)
                .setDataBytes(bytes).setSource(StatsSource.DBSTATS).setUpdatedAt(Instant.now()).build();
            producer.send(new ProducerRecord<>(config.catalog().dbStats().name(), shard.getShardId(), truth));
        } catch (MongoException e) {
            LOG.warn("dbStats of shard {} not read: {}", shard.getShardId(), e.getMessage());
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        producer.close();
        clients.values().forEach(MongoClient::close);
    }
}
