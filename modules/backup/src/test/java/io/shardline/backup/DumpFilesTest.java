package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpFilesTest {

    @TempDir
    Path dir;

    private static RawBsonDocument doc(BsonDocument document) {
        return RawBsonDocument.parse(document.toJson(org.bson.json.JsonWriterSettings.builder().outputMode(org.bson.json.JsonMode.EXTENDED).build()));
    }

    @Test
    void shouldLayTheChangesOverTheScanWhateverTypeTheKeyGaveAnId() throws Exception {
        Path scan = dir.resolve("c.scan");
        try (OutputStream out = Files.newOutputStream(scan)) {
            DumpFiles.write(out, doc(new BsonDocument("_id", new BsonInt64(42)).append("v", new BsonInt32(1))));
            DumpFiles.write(out, doc(new BsonDocument("_id", new BsonString("a")).append("v", new BsonInt32(1))));
            DumpFiles.write(out, doc(new BsonDocument("_id", new BsonString("b")).append("v", new BsonInt32(1))));
        }
        Map<String, RawBsonDocument> changes = new HashMap<>();
        changes.put(IdKey.of(new BsonInt32(42)), doc(new BsonDocument("_id", new BsonInt64(42)).append("v", new BsonInt32(2))));
        changes.put(IdKey.of(new BsonString("a")), null);
        changes.put(IdKey.of(new BsonInt32(7)), doc(new BsonDocument("_id", new BsonInt32(7)).append("v", new BsonInt32(3))));

        for (boolean gzip : new boolean[] {false, true}) {
            Path target = dir.resolve("c.bson" + (gzip ? ".gz" : ""));
            DumpFiles.Written written = DumpFiles.overlay(scan, target, gzip, changes);
            List<RawBsonDocument> read = new ArrayList<>();
            DumpFiles.read(target, gzip, read::add);
            assertThat(read).extracting(d -> d.get("_id").toString() + "=" + d.getInt32("v").getValue())
                .containsExactly("BsonInt64{value=42}=2", "BsonString{value='b'}=1", "BsonInt32{value=7}=3");
            assertThat(written.documents()).isEqualTo(3);
            assertThat(written.sha256()).isEqualTo(DumpFiles.sum(target));
        }
    }

    @Test
    void shouldNameATruncatedOrDamagedFile() throws Exception {
        Path file = dir.resolve("t.bson");
        try (OutputStream out = Files.newOutputStream(file)) {
            DumpFiles.write(out, doc(new BsonDocument("_id", new BsonString("a"))));
        }
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertThatThrownBy(() -> DumpFiles.read(file, false, d -> { })).isInstanceOf(BackupException.class).hasMessageContaining("t.bson")
            .hasMessageContaining("truncated");
        Files.write(file, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f, 0});
        assertThatThrownBy(() -> DumpFiles.read(file, false, d -> { })).isInstanceOf(BackupException.class).hasMessageContaining("impossible length");
    }
}
