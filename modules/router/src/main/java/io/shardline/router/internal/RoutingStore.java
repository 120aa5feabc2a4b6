package io.shardline.router.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.core.routing.Chunk;
import io.shardline.schemas.avro.ChunkRoute;

/**
 * A router's local copy of the routing topic as of a position: every latest chunk record (also those of a step not
 * yet complete) in an Avro data file, with the topic's name, id and the position it was read up to as file
 * metadata. A router that restarts loads it and reads the topic from that position on instead of from the
 * beginning. The file is replaced atomically; one that cannot be read is reported and ignored, never trusted.
 */
public final class RoutingStore {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingStore.class);
    private static final String TOPIC = "shardline.topic";
    private static final String TOPIC_ID = "shardline.topic.id";
    private static final String POSITION = "shardline.position";
    private static final String WRITTEN_AT = "shardline.written.at";

    private final Path file;

    public RoutingStore(Path directory) {
        this.file = directory.resolve("routing.avro");
    }

    /** What a store holds: the chunk records read from {@code topic} (id {@code topicId}) before {@code position}. */
    public record Snapshot(String topic, String topicId, long position, Instant writtenAt, List<Chunk> chunks) {
    }

    public Path file() {
        return file;
    }

    /** Writes the chunks read before {@code position}, replacing the previous copy only once the new one is complete. */
    public void save(String topic, String topicId, long position, Collection<? extends Collection<Chunk>> chunks) throws IOException {
        Files.createDirectories(file.getParent());
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (DataFileWriter<ChunkRoute> writer = new DataFileWriter<>(new SpecificDatumWriter<>(ChunkRoute.class))) {
            writer.setCodec(CodecFactory.deflateCodec(1));
            writer.setMeta(TOPIC, topic);
            writer.setMeta(TOPIC_ID, topicId);
            writer.setMeta(POSITION, position);
            writer.setMeta(WRITTEN_AT, System.currentTimeMillis());
            writer.create(ChunkRoute.getClassSchema(), partial.toFile());
            for (Collection<Chunk> namespace : chunks) {
                for (Chunk chunk : namespace) {
                    writer.append(chunk.toRoute());
                }
            }
            writer.fSync();
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The stored copy, or empty when there is none or it cannot be read (the reason is logged). */
    public Optional<Snapshot> load() {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (DataFileReader<ChunkRoute> reader = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(ChunkRoute.class))) {
            String topic = meta(reader, TOPIC);
            String topicId = meta(reader, TOPIC_ID);
            long position = reader.getMetaLong(POSITION);
            Instant writtenAt = Instant.ofEpochMilli(reader.getMetaLong(WRITTEN_AT));
            List<Chunk> chunks = new ArrayList<>();
            ChunkRoute reuse = null;
            while (reader.hasNext()) {
                reuse = reader.next(reuse);
                chunks.add(Chunk.of(reuse));
            }
            return Optional.of(new Snapshot(topic, topicId, position, writtenAt, chunks));
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring the local routing store {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    private static String meta(DataFileReader<ChunkRoute> reader, String key) {
        byte[] value = reader.getMeta(key);
        if (value == null) {
            throw new IllegalStateException("metadata " + key + " is missing");
        }
        return new String(value, StandardCharsets.UTF_8);
    }
}
