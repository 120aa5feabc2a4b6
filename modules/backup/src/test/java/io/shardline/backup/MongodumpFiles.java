package io.shardline.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;

/**
 * Reads a dump the way mongorestore does, independently of the backup's own reader: a {@code .bson} file is BSON
 * documents back to back (gzip-compressed as a whole with {@code --gzip}), decoded here with the driver's
 * {@link BsonBinaryReader}; {@code .metadata.json} is extended JSON.
 */
final class MongodumpFiles {

    private MongodumpFiles() {
    }

    static List<BsonDocument> documents(Path file, boolean gzip) throws IOException {
        byte[] bytes;
        try (InputStream in = gzip ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
            bytes = in.readAllBytes();
        }
        List<BsonDocument> documents = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            try (BsonBinaryReader reader = new BsonBinaryReader(buffer)) {
                documents.add(new BsonDocumentCodec().decode(reader, DecoderContext.builder().build()));
            }
        }
        return documents;
    }

    static BsonDocument metadata(Path file) throws IOException {
        return BsonDocument.parse(Files.readString(file, StandardCharsets.UTF_8));
    }
}
