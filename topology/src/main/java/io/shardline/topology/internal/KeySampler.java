package io.shardline.topology.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.shardline.core.key.ShardKey;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.KeySample;
import io.shardline.topology.internal.avro.SampleLevel;

/**
 * Keeps a bounded, deterministic sample of the shard keys of every namespace: a document is in the sample when the
 * low {@code level} bits of the hash of its document key are zero. Whenever a namespace's sample outgrows its bound the
 * level rises by one and the documents that no longer qualify leave, so the sample stays a uniform sample of the
 * namespace's documents (a bottom-k sketch that supports deletes). Every change of the sample is forwarded keyed by
 * {@link TopicCatalog#keySampleKey}, a tombstone when a document leaves it; a sampled document counts its writes, so a
 * split can also halve the write load instead of the documents.
 */
public final class KeySampler implements Processor<String, ParsedCdc, String, KeySample> {

    private static final int MAX_LEVEL = 30;

    private final int maxPerNamespace;
    private final String samplesStore;
    private final String levelsStore;
    private final String routesStore;
    private final String configsStore;
    private ProcessorContext<String, KeySample> context;
    private KeyValueStore<String, KeySample> samples;
    private KeyValueStore<String, SampleLevel> levels;
    private ChunkLocator locator;

    /**
     * @param maxPerNamespace the bound of each namespace's sample
     * @param samplesStore    the sample, keyed like the output
     * @param levelsStore     sample level and size per namespace
     */
    public KeySampler(int maxPerNamespace, String samplesStore, String levelsStore, String routesStore, String configsStore) {
        if (maxPerNamespace < 1) {
            throw new IllegalArgumentException("keySampleSize must be at least 1, was " + maxPerNamespace);
        }
        this.maxPerNamespace = maxPerNamespace;
        this.samplesStore = samplesStore;
        this.levelsStore = levelsStore;
        this.routesStore = routesStore;
        this.configsStore = configsStore;
    }

    @Override
    public void init(ProcessorContext<String, KeySample> context) {
        this.context = context;
        this.samples = context.getStateStore(samplesStore);
        this.levels = context.getStateStore(levelsStore);
        this.locator = ChunkLocator.of(context, routesStore, configsStore);
    }

    @Override
    public void process(Record<String, ParsedCdc> record) {
        CdcChange change = record.value().change();
        SampleLevel level = levelOf(change.namespace());
        int hash = hash(change.documentKey());
        if (!inSample(hash, level.getLevel())) {
            return;
        }
        String indexKey = indexKey(change);
        KeySample known = findSampled(indexKey);
        if (change.op() == CdcChange.Op.DELETE) {
            if (known != null) {
                remove(known, record.timestamp());
                level.setSize(level.getSize() - 1);
                levels.put(change.namespace(), level);
            }
            return;
        }
        ShardKey key = locator.keyOf(change);
        if (key == null) {
            return;
        }
        long writes = (known == null ? 0 : known.getWrites()) + (change.op() == CdcChange.Op.READ ? 0 : 1);
        if (known != null && !ShardKey.ofBytes(bytes(known.getShardKey())).equals(key)) {
            remove(known, record.timestamp());
            known = null;
            level.setSize(level.getSize() - 1);
        }
        KeySample sample = KeySample.newBuilder().setNamespace(change.namespace()).setShardKey(ByteBuffer.wrap(key.toBytes()))
            .setShardId(change.shardId()).setDocumentKey(change.documentKey()).setWrites(writes)
            .setUpdatedAt(Instant.ofEpochMilli(record.timestamp())).build();
        String sampleKey = TopicCatalog.keySampleKey(change.namespace(), key.toHex(), change.shardId(), change.documentKey());
        samples.put(sampleKey, sample);
        samples.put(indexKey, sample);
        context.forward(new Record<>(sampleKey, sample, record.timestamp()));
        if (known == null) {
            level.setSize(level.getSize() + 1);
            while (level.getSize() > maxPerNamespace && level.getLevel() < MAX_LEVEL) {
                level.setLevel(level.getLevel() + 1);
                level.setSize(level.getSize() - evict(change.namespace(), level.getLevel(), record.timestamp()));
            }
        }
        levels.put(change.namespace(), level);
    }

    private SampleLevel levelOf(String namespace) {
        SampleLevel level = levels.get(namespace);
        return level == null ? new SampleLevel(0, 0L) : level;
    }

    /** The sample store also holds an index entry per sampled document ({@code #<shard>|<ns>|<document key>}). */
    private static String indexKey(CdcChange change) {
        return "#" + change.shardId() + "|" + change.namespace() + "|" + change.documentKey();
    }

    private KeySample findSampled(String indexKey) {
        return samples.get(indexKey);
    }

    private void remove(KeySample sample, long timestamp) {
        String sampleKey = sampleKey(sample);
        samples.delete(sampleKey);
        samples.delete("#" + sample.getShardId() + "|" + sample.getNamespace() + "|" + sample.getDocumentKey());
        context.forward(new Record<>(sampleKey, null, timestamp));
    }

    private long evict(String namespace, int level, long timestamp) {
        List<KeySample> leaving = new ArrayList<>();
        try (KeyValueIterator<String, KeySample> all = samples.range(TopicCatalog.routingKey(namespace, ""), TopicCatalog.routingKey(namespace, "~"))) {
            while (all.hasNext()) {
                KeyValue<String, KeySample> entry = all.next();
                if (!inSample(hash(entry.value.getDocumentKey()), level)) {
                    leaving.add(entry.value);
                }
            }
        }
        leaving.forEach(sample -> remove(sample, timestamp));
        return leaving.size();
    }

    private static String sampleKey(KeySample sample) {
        return TopicCatalog.keySampleKey(sample.getNamespace(), ShardKey.ofBytes(bytes(sample.getShardKey())).toHex(),
            sample.getShardId(), sample.getDocumentKey());
    }

    static int hash(String documentKey) {
        return Utils.murmur2(documentKey.getBytes(StandardCharsets.UTF_8));
    }

    static boolean inSample(int hash, int level) {
        return level == 0 || (hash & ((1 << level) - 1)) == 0;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
