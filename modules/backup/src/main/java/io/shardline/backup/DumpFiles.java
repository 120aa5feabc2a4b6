package io.shardline.backup;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import org.bson.RawBsonDocument;

/**
 * mongodump's {@code .bson} files: documents one after another, each as its own BSON bytes (the first four bytes
 * are its length, little-endian), optionally gzip-compressed as a whole; and the SHA-256 of each file as written.
 */
final class DumpFiles {

    /** The BSON limit of one document, with room: a larger length prefix means a damaged file. */
    private static final int MAX_DOCUMENT = 48 * 1024 * 1024;

    private DumpFiles() {
    }

    record Written(long documents, long bytes, String sha256) {
    }

    static void write(OutputStream out, RawBsonDocument document) throws IOException {
        ByteBuffer bytes = document.getByteBuffer().asNIO();
        out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
    }

    /**
     * Writes {@code target} from the plain scan file with the changes laid over it (by {@link IdKey}): a changed
     * document is written as it became (or left out when deleted), the documents created during the scan are appended.
     */
    static Written overlay(Path scan, Path target, boolean gzip, Map<String, RawBsonDocument> changes) throws IOException {
        Map<String, RawBsonDocument> pending = new HashMap<>(changes);
        MessageDigest digest = sha256();
        long[] counts = new long[2];
        try (OutputStream file = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(target), 1 << 16), digest);
             OutputStream out = gzip ? new GZIPOutputStream(file, 1 << 16) : file) {
            Consumer<RawBsonDocument> emit = document -> {
                try {
                    write(out, document);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                counts[0]++;
                counts[1] += document.getByteBuffer().remaining();
            };
            read(scan, false, document -> {
                String id = IdKey.of(document.get("_id"));
                if (!pending.containsKey(id)) {
                    emit.accept(document);
                    return;
                }
                RawBsonDocument changed = pending.remove(id);
                if (changed != null) {
                    emit.accept(changed);
                }
            });
            pending.values().stream().filter(java.util.Objects::nonNull).forEach(emit);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        return new Written(counts[0], counts[1], HexFormat.of().formatHex(digest.digest()));
    }

    /** Writes {@code bytes} to {@code file}; returns their SHA-256. */
    static String writeWithSum(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    /** The SHA-256 of a file's bytes as stored. */
    static String sum(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Hands every document of a dump file to {@code each}, in file order; a damaged file is an error naming it. */
    static long read(Path file, boolean gzip, Consumer<RawBsonDocument> each) throws IOException {
        long count = 0;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
            byte[] prefix = new byte[4];
            while (true) {
                int first = in.read();
                if (first < 0) {
                    return count;
                }
                prefix[0] = (byte) first;
                readFully(in, prefix, 1, 3, file);
                int length = (prefix[0] & 0xFF) | (prefix[1] & 0xFF) << 8 | (prefix[2] & 0xFF) << 16 | (prefix[3] & 0xFF) << 24;
                if (length < 5 || length > MAX_DOCUMENT) {
                    throw new BackupException(file + ": document " + count + " has an impossible length " + length + "; the file is damaged");
                }
                byte[] bytes = new byte[length];
                System.arraycopy(prefix, 0, bytes, 0, 4);
                readFully(in, bytes, 4, length - 4, file);
                each.accept(new RawBsonDocument(bytes));
                count++;
            }
        }
    }

    private static void readFully(InputStream in, byte[] into, int from, int length, Path file) throws IOException {
        int read = 0;
        while (read < length) {
            int n = in.read(into, from + read, length - read);
            if (n < 0) {
                throw new BackupException(file + ": ends inside a document; the file is truncated", new EOFException());
            }
            read += n;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }
}
