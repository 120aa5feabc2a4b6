package io.shardline.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

class SchemaEvolutionTest {

    private static Schema previous() throws IOException {
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/previous/ShardDescriptor-v1.avsc")) {
            return new Schema.Parser().parse(in);
        }
    }

    @Test
    void shouldReadARecordWrittenWithThePreviousSchemaWhenAFieldWasAddedWithADefault() throws IOException {
        Schema writer = previous();
        GenericRecord old = new GenericData.Record(writer);
        old.put("shardId", "s1");
        old.put("connectionString", "mongodb://127.0.0.1:27017/?replicaSet=rs-s1");
        old.put("capacityBytes", 1_000_000L);
        old.put("capacityOpsPerSec", 500L);
        old.put("state", new GenericData.EnumSymbol(writer.getField("state").schema(), "DRAINING"));
        old.put("version", 3L);
        old.put("updatedAt", 1_700_000_000_000L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(writer).write(old, encoder);
        encoder.flush();

        SpecificDatumReader<ShardDescriptor> reader = new SpecificDatumReader<>(writer, ShardDescriptor.getClassSchema());
        ShardDescriptor current = reader.read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));

        assertThat(current.getShardId()).isEqualTo("s1");
        assertThat(current.getState()).isEqualTo(ShardState.DRAINING);
        assertThat(current.getUpdatedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
        assertThat(current.getLabels()).isEmpty();
    }

    @Test
    void shouldBeBackwardCompatibleWithThePreviousSchema() throws IOException {
        SchemaCompatibility.SchemaPairCompatibility result =
            SchemaCompatibility.checkReaderWriterCompatibility(ShardDescriptor.getClassSchema(), previous());

        assertThat(result.getType()).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    }
}
