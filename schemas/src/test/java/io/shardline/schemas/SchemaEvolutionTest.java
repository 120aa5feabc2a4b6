package io.shardline.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

/**
 * Every schema that changed keeps reading what its earlier versions wrote (the registry's BACKWARD rule): the earlier
 * versions are kept under {@code previous/}. Fields that nothing read were removed (ShardDescriptor's labels and the
 * DOWN state, a load sample's window and latency, a migration's fence version); removing a field is backward compatible.
 */
class SchemaEvolutionTest {

    private static Schema previous(String file, Schema... namedTypes) throws IOException {
        Schema.Parser parser = new Schema.Parser();
        for (Schema named : namedTypes) {
            parser.parse(named.toString());
        }
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/previous/" + file)) {
            return parser.parse(in);
        }
    }

    static Stream<Arguments> versions() throws IOException {
        return Stream.of(
            Arguments.of("ShardDescriptor-v1", previous("ShardDescriptor-v1.avsc"), ShardDescriptor.getClassSchema()),
            Arguments.of("ShardDescriptor-v2", previous("ShardDescriptor-v2.avsc"), ShardDescriptor.getClassSchema()),
            Arguments.of("QueryLoadSample-v1", previous("QueryLoadSample-v1.avsc"), QueryLoadSample.getClassSchema()),
            Arguments.of("MigrationState-v1", previous("MigrationState-v1.avsc", MigrationPhase.getClassSchema()), MigrationState.getClassSchema()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("versions")
    void shouldBeBackwardCompatibleWithEachPreviousVersion(String version, Schema writer, Schema reader) {
        SchemaCompatibility.SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);

        assertThat(result.getType()).as(version + ": " + result.getDescription()).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    }

    @Test
    void shouldReadAShardDescriptorWrittenBeforeTheStateHadAField() throws IOException {
        Schema writer = previous("ShardDescriptor-v1.avsc");
        ShardDescriptor current = read(descriptor(writer, "DRAINING"), writer, ShardDescriptor.class);

        assertThat(current.getShardId()).isEqualTo("s1");
        assertThat(current.getState()).isEqualTo(ShardState.DRAINING);
        assertThat(current.getUpdatedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
    }

    @Test
    void shouldReadAShardDescriptorWithLabelsAndAStateThatNoLongerExist() throws IOException {
        Schema writer = previous("ShardDescriptor-v2.avsc");
        GenericRecord old = descriptor(writer, "DOWN");
        old.put("labels", Map.of("zone", "eu-1"));

        ShardDescriptor current = read(old, writer, ShardDescriptor.class);

        assertThat(current.getShardId()).isEqualTo("s1");
        assertThat(current.getVersion()).isEqualTo(3L);
        // The enum's default stands in for a symbol the reader no longer has.
        assertThat(current.getState()).isEqualTo(ShardState.ACTIVE);
    }

    @Test
    void shouldReadALoadSampleThatCarriedItsWindow() throws IOException {
        Schema writer = previous("QueryLoadSample-v1.avsc");
        GenericRecord old = new GenericData.Record(writer);
        old.put("routerId", "r1");
        old.put("shardId", "s2");
        old.put("windowStart", 1_700_000_000_000L);
        old.put("windowMillis", 1_000L);
        old.put("reads", 40L);
        old.put("writes", 7L);
        old.put("latencyP99Micros", 900L);

        QueryLoadSample current = read(old, writer, QueryLoadSample.class);

        assertThat(current.getShardId()).isEqualTo("s2");
        assertThat(current.getReads()).isEqualTo(40L);
        assertThat(current.getWrites()).isEqualTo(7L);
    }

    private static GenericRecord descriptor(Schema writer, String state) {
        GenericRecord old = new GenericData.Record(writer);
        old.put("shardId", "s1");
        old.put("connectionString", "mongodb://127.0.0.1:27017/?replicaSet=rs-s1");
        old.put("capacityBytes", 1_000_000L);
        old.put("capacityOpsPerSec", 500L);
        old.put("state", new GenericData.EnumSymbol(writer.getField("state").schema(), state));
        old.put("version", 3L);
        old.put("updatedAt", 1_700_000_000_000L);
        return old;
    }

    private static <T extends SpecificRecord> T read(GenericRecord record, Schema writer, Class<T> type) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(writer).write(record, encoder);
        encoder.flush();
        SpecificDatumReader<T> reader = new SpecificDatumReader<>(type);
        reader.setSchema(writer);
        return reader.read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    }
}
